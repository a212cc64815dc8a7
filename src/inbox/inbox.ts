// The durable inbox: store first, acknowledge, then process each room's events in order.
// Delivery to the capabilities is at least once: events of a transaction that was not finished
// before a crash are processed again at start-up, so handlers are idempotent.
import { setTimeout as sleep } from "node:timers/promises";
import type { IgnoresCheck } from "../core/capability.ts";
import type { Database } from "../db/database.ts";
import { isContentError, sqlState } from "../db/errors.ts";
import type { Metrics } from "../http/metrics.ts";
import { eventTypeLabel } from "../http/metrics.ts";
import type { Logger } from "../logging.ts";
import { isRawEvent, type DecodedTransaction, type RawEvent } from "../matrix/events.ts";
import { eventIdsOf, isNotATransaction, isScanned, type NotATransaction, type TransactionContent } from "../matrix/transaction-body.ts";
import { RoomQueues } from "../matrix/room-queues.ts";
import { Interrupted } from "../util/retry.ts";
import { Backlog } from "./backlog.ts";
import { groupByRoom, RoomGroups } from "./batches.ts";
import { Marks } from "./marks.ts";
import { countPending, deleteTransaction, markProcessed, moveToPoison, pendingTransactions, recordFailure, recordPoison, storeTransaction, type StoredTransaction } from "./store.ts";

/**
 * Processes one event; returns descriptions of the handlers that failed for good (empty: all
 * fine). Throws Interrupted when Loket stops first: the event's transaction then stays pending
 * and is processed again at the next start.
 */
export type EventProcessor = (event: RawEvent) => Promise<string[]>;

/**
 * Processes one room's events of one transaction, in order; returns each event's failures (same
 * index). Throws Interrupted when Loket stops first (the transaction then stays pending); any
 * other error is a bug: logged, and the batch counts as done.
 */
export type BatchProcessor = (roomId: string, events: RawEvent[]) => Promise<string[][]>;

/** More events than this waiting in memory: new transactions are refused (503) until it drains. */
export const DEFAULT_MAX_PENDING_EVENTS = 10_000;
/** More stored JSON than this waiting in memory: the same. */
export const DEFAULT_MAX_PENDING_BYTES = 32 * 1024 * 1024;
const RECOVERY_PAGE = 20;
/** At most this many events of one room are processed as one batch. */
const MAX_ROOM_BATCH = 200;

/** What a transaction's content makes of it: stored (or a retry of one stored), poison, or not a transaction. */
export type Received = "stored" | "duplicate" | "poison" | NotATransaction;

/** One transaction's events in one room. */
interface TxnShare {
  seq: number;
  events: RawEvent[];
  started: bigint;
  settle(finished: boolean): void;
}

/** Thrown by receive() when the transaction does not fit in the backlog (or recovery runs). */
export class InboxBusy extends Error {
  constructor() {
    super("the inbox backlog is full");
  }
}

export interface InboxOptions {
  maxPendingEvents?: number;
  maxPendingBytes?: number;
  /** Aborted when Loket stops: retries of failure records end, recovery stops loading. */
  signal?: AbortSignal;
  /** First delay when recording a handler failure fails (doubling to 30 s); default 1 s. */
  retryMs?: number;
  /**
   * True when no processor would act on these events of the room (asked when nothing waits in
   * the room's lane): they are then done at once, without a job in the room's lane.
   */
  ignores?: IgnoresCheck;
}

export class Inbox {
  private readonly queues: RoomQueues;
  private readonly groups = new RoomGroups<TxnShare>(MAX_ROOM_BATCH);
  /** Transactions scheduled and not yet recorded as finished, by seq. */
  private readonly scheduledTxns = new Set<number>();
  /**
   * Transactions finished lately. A retry that read "pending" just before the processed mark
   * was written must not schedule them again.
   */
  private readonly finishedRecently = new Set<number>();
  private readonly backlog: Backlog;
  private readonly marks: Marks;
  private recovering: Promise<void> | undefined;
  private readonly signal: AbortSignal;
  private readonly retryMs: number;
  private readonly ignores: IgnoresCheck;
  private readonly db: Database;
  private readonly process: BatchProcessor;
  private readonly metrics: Metrics;
  private readonly log: Logger;

  /** Takes a processor of single events, or of one room's batch of events ({ batch }). */
  constructor(db: Database, process: EventProcessor | { batch: BatchProcessor }, metrics: Metrics, log: Logger, opts: InboxOptions = {}) {
    this.db = db;
    this.process = typeof process === "function" ? this.eachEvent(process) : process.batch;
    this.metrics = metrics;
    this.log = log;
    this.signal = opts.signal ?? new AbortController().signal;
    this.retryMs = opts.retryMs ?? 1_000;
    this.ignores = opts.ignores ?? (() => false);
    this.backlog = new Backlog({
      maxEvents: opts.maxPendingEvents ?? DEFAULT_MAX_PENDING_EVENTS,
      maxBytes: opts.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
    }, metrics);
    this.marks = new Marks((seqs) => markProcessed(db, seqs), (seqs) => { this.forget(seqs); }, log);
    this.queues = new RoomQueues((err, roomId) => { log.error({ err, roomId }, "room queue failure"); });
  }

  /** True once the backlog is down to half its limits and recovery has loaded everything. */
  get relieved(): boolean {
    return this.recovering === undefined && this.backlog.relieved;
  }

  /**
   * Stores the transaction (throws when the database fails), then schedules its events. Throws
   * InboxBusy, before storing anything, when it does not fit in the backlog. A transaction the
   * database refuses for its content is recorded as poison instead. Content not decoded yet is
   * decoded while it is stored; when it is not a transaction, it is removed again and that is
   * the answer.
   */
  async receive(txnId: string, body: Buffer, content: TransactionContent): Promise<Received> {
    const eventIds = eventIdsOf(content);
    if (this.recovering !== undefined || !this.backlog.admit(eventIds.length, body.length)) throw new InboxBusy();
    return this.store(txnId, body, content, eventIds);
  }

  /**
   * Stores events the homeserver never sent Loket (a room's history from before a bot joined
   * it) as a transaction of their own, which is then processed like any other: durably, at
   * least once, and after whatever their rooms have queued. `txnId` names the cause, so that a
   * replay of the cause stores nothing new. Small, and asked for by a room's job, so it is taken
   * whatever the backlog holds and while recovery runs.
   */
  async storeMissed(txnId: string, events: RawEvent[]): Promise<void> {
    // As a transaction from the homeserver must be: each event with an id, room, type and sender.
    events = events.filter(isRawEvent);
    if (events.length === 0) return;
    const body = Buffer.from(JSON.stringify({ events }), "utf8");
    this.backlog.admit(events.length, body.length, true);
    await this.store(txnId, body, { events, extra: {} }, events.map((e) => e.event_id));
  }

  /** Stores a transaction whose room in the backlog is reserved, and schedules it. */
  private async store(txnId: string, body: Buffer, content: TransactionContent, eventIds: readonly string[]): Promise<Received> {
    let scheduled = false;
    let txn: DecodedTransaction | NotATransaction | undefined;
    try {
      const storing = storeTransaction(this.db, txnId, body, eventIds);
      // Handled below; until then a quick failure must not count as an unhandled rejection.
      storing.catch(() => undefined);
      if (isScanned(content)) {
        // Parse while the database stores the body: the pool sends the INSERT on a later tick.
        await new Promise((resolve) => setImmediate(resolve));
        txn = content.decode();
      } else {
        txn = content;
      }
      // Grouped by room meanwhile too; what nothing acts on is asked when it is scheduled.
      const byRoom = isNotATransaction(txn) ? undefined : groupByRoom(txn.events);
      const stored = await storing;
      if (isNotATransaction(txn)) {
        // Stored only so that parsing need not hold up the INSERT: nothing of it is kept. A row
        // left by a crash or a failed DELETE is moved to inbox_poison at the next start.
        if (stored.isNew) await deleteTransaction(this.db, stored.seq);
        return txn;
      }
      const full = { seq: stored.seq, events: txn.events, bytes: body.length };
      if (!stored.isNew) {
        // Stored by an earlier attempt whose answer failed: make sure it is being processed.
        if (stored.pending && !this.scheduledTxns.has(stored.seq) && !this.finishedRecently.has(stored.seq)) {
          this.schedule(full, byRoom);
          scheduled = true;
        }
        return "duplicate";
      }
      // Counted per type, not per event: a label lookup per event costs more than the count.
      const byType = new Map<string, number>();
      for (const ev of txn.events) byType.set(ev.type, (byType.get(ev.type) ?? 0) + 1);
      for (const [type, n] of byType) this.metrics.events.inc({ type: eventTypeLabel(type) }, n);
      this.schedule(full, byRoom);
      scheduled = true;
      return "stored";
    } catch (err) {
      if (!isContentError(err)) throw err;
      // Not a transaction either (a NUL in its id, say): answered as one that is not.
      if (txn !== undefined && isNotATransaction(txn)) return txn;
      await recordPoison(this.db, Buffer.from(txnId, "utf8"), body, `database_rejected ${sqlState(err) ?? ""}: ${(err as Error).message}`);
      this.log.error({ txnId: JSON.stringify(txnId), sqlState: sqlState(err), bytes: body.length }, "the database refused a transaction's content; recorded as poison and acknowledged");
      return "poison";
    } finally {
      if (!scheduled) this.backlog.release(eventIds.length, body.length);
    }
  }

  /**
   * Schedules the transactions stored but not finished before the last stop, oldest first, in
   * pages that fit the backlog; returns how many there are. New transactions wait (InboxBusy)
   * until all of them are scheduled, so that each room's events keep their order.
   */
  async recover(): Promise<number> {
    const total = await countPending(this.db);
    if (total === 0) return 0;
    let resolveFirst!: () => void;
    const firstPage = new Promise<void>((r) => { resolveFirst = r; });
    this.recovering = this.loadPages(resolveFirst).finally(() => { this.recovering = undefined; resolveFirst(); });
    await Promise.race([firstPage, this.recovering]);
    return total;
  }

  private async loadPages(firstPageScheduled: () => void): Promise<void> {
    let after = 0;
    for (;;) {
      const page = await pendingTransactions(this.db, after, RECOVERY_PAGE);
      for (const txn of page) {
        after = txn.seq;
        // Stored and scheduled while recovery ran (what a bot read back of a DM's history).
        if (this.scheduledTxns.has(txn.seq) || this.finishedRecently.has(txn.seq)) continue;
        // Its body does not decode (left by a stop before it was removed): poison, not events.
        if (txn.unusable !== undefined) {
          await this.poisonStored(txn.seq, txn.unusable);
          continue;
        }
        while (!this.backlog.admit(txn.events.length, txn.bytes)) {
          if (this.signal.aborted) return;
          await this.backlog.whenRelieved();
        }
        this.schedule(txn);
      }
      firstPageScheduled();
      if (page.length < RECOVERY_PAGE || this.signal.aborted) return;
    }
  }

  /** Waits until every scheduled event is processed and recorded as such. */
  async drain(): Promise<void> {
    await this.recovering;
    await this.queues.drain();
    await this.marks.flush();
  }

  /**
   * Processes an event that belongs to no stored transaction (one that waited for its room key)
   * in its room's lane, after what that room has queued. Resolves when it has been handled;
   * failures are recorded like any other.
   */
  runLate(event: RawEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // Shares queued after this event must not join a group queued before it.
      this.groups.close(event.room_id);
      this.queues.enqueue(event.room_id, async () => {
        try {
          const [failures = []] = await this.process(event.room_id, [event]);
          if (failures.length > 0) await this.recordFailure(0, event, failures.join("; "));
          resolve();
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  }

  /**
   * Moves a stored transaction that is not one to inbox_poison. Nothing of it is scheduled, so
   * the processed marks stay a prefix; if the move fails, the row waits for the next start.
   */
  private async poisonStored(seq: number, why: string): Promise<void> {
    try {
      await moveToPoison(this.db, seq, `not_a_transaction: ${why}`);
      this.metrics.poison.inc({ reason: "not_a_transaction" });
      this.log.error({ seq }, "a stored transaction is not a transaction; moved to inbox_poison");
    } catch (err) {
      this.log.warn({ err, seq }, "could not move a stored transaction that is not one to inbox_poison; it waits for the next start");
    }
  }

  /** Schedules a transaction whose room in the backlog is already reserved. */
  private schedule(txn: StoredTransaction, byRoom?: Map<string, RawEvent[]>): void {
    this.scheduledTxns.add(txn.seq);
    this.marks.started(txn.seq);
    let remaining = txn.events.length;
    let interrupted = false;
    const started = process.hrtime.bigint();
    const settle = (finished: boolean): void => {
      interrupted ||= !finished;
      if (--remaining > 0) return;
      this.backlog.release(0, txn.bytes);
      if (!interrupted) this.marks.finish(txn.seq);
    };
    if (remaining === 0) {
      remaining = 1;
      settle(true);
      return;
    }
    const batches = byRoom ?? groupByRoom(txn.events);
    remaining = batches.size;
    for (const [roomId, events] of batches) {
      // Nothing waits in the room's lane and nothing would act on them: done, in order, at once.
      if (this.queues.isIdle(roomId) && this.ignores(roomId, events)) {
        this.backlog.release(events.length, 0);
        settle(true);
        continue;
      }
      // Joins the room's group that waits to run, if there is one; else a new group is queued.
      const group = this.groups.add(roomId, { seq: txn.seq, events, started, settle });
      if (group) this.queues.enqueue(roomId, () => this.runGroup(roomId, group));
    }
  }

  /** Processes the shares of a room's group as one batch, then settles each one's transaction. */
  private async runGroup(roomId: string, group: TxnShare[]): Promise<void> {
    this.groups.close(roomId, group);
    let finished = false;
    try {
      const failures = await this.process(roomId, group.flatMap((share) => share.events));
      let i = 0;
      for (const share of group) {
        for (const event of share.events) {
          const f = failures[i++] ?? [];
          if (f.length > 0) await this.recordFailure(share.seq, event, f.join("; "));
        }
      }
      const now = process.hrtime.bigint();
      for (const share of group) {
        const seconds = Number(now - share.started) / 1e9;
        for (let k = 0; k < share.events.length; k++) this.metrics.processing.observe(seconds);
      }
      finished = true;
    } catch (err) {
      // Interrupted: not done, so the transactions stay pending for the next start.
      // Anything else is a bug in the processor: logged by the queue, counted as done.
      finished = !(err instanceof Interrupted);
      if (finished) throw err;
    } finally {
      for (const share of group) {
        this.backlog.release(share.events.length, 0);
        share.settle(finished);
      }
    }
  }

  /**
   * A processor of single events, as a batch processor that behaves as each event had its own
   * job: failures are recorded in order, a bug is logged and its event counts as done.
   */
  private eachEvent(process: EventProcessor): BatchProcessor {
    return async (roomId, events) => {
      const failures: string[][] = [];
      for (const event of events) {
        try {
          failures.push(await process(event));
        } catch (err) {
          if (err instanceof Interrupted) throw err;
          this.log.error({ err, roomId }, "room queue failure");
          failures.push([]);
        }
      }
      return failures;
    };
  }

  /**
   * A failure that cannot be recorded (the database is down) is retried while the room waits:
   * the event does not count as done until its failure is on record. A stop ends the waiting
   * (Interrupted), and the transaction is then processed again at the next start.
   */
  private async recordFailure(seq: number, event: RawEvent, failure: string): Promise<void> {
    let delay = this.retryMs;
    for (;;) {
      if (this.signal.aborted) throw new Interrupted();
      try {
        await recordFailure(this.db, seq, event, failure);
        return;
      } catch (err) {
        this.log.warn({ err, eventId: event.event_id, delayMs: delay }, "could not record a handler failure; retrying");
        await sleep(delay, undefined, { signal: this.signal }).catch(() => undefined);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  private forget(seqs: number[]): void {
    for (const seq of seqs) {
      this.scheduledTxns.delete(seq);
      this.finishedRecently.add(seq);
    }
    // Sets iterate in insertion order: forget the oldest beyond a few thousand.
    for (const seq of this.finishedRecently) {
      if (this.finishedRecently.size <= 5_000) break;
      this.finishedRecently.delete(seq);
    }
  }
}
