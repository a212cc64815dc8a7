// The durable inbox: store first, acknowledge, then process each room's events in order.
// Delivery to the capabilities is at least once: events of a transaction that was not finished
// before a crash are processed again at start-up, so handlers are idempotent.
import type { Database } from "../db/database.ts";
import type { Metrics } from "../http/metrics.ts";
import { eventTypeLabel } from "../http/metrics.ts";
import type { Logger } from "../logging.ts";
import type { DecodedTransaction, RawEvent } from "../matrix/events.ts";
import { RoomQueues } from "../matrix/room-queues.ts";
import { Interrupted } from "../util/retry.ts";
import { markProcessed, pendingTransactions, recordFailure, storeTransaction, type StoredTransaction } from "./store.ts";

/**
 * Processes one event; returns descriptions of the handlers that failed for good (empty: all
 * fine). Throws Interrupted when Loket stops first: the event's transaction then stays pending
 * and is processed again at the next start.
 */
export type EventProcessor = (event: RawEvent) => Promise<string[]>;

/** More events than this waiting in memory: new transactions are refused (503) until it drains. */
export const DEFAULT_MAX_PENDING_EVENTS = 10_000;

export class Inbox {
  private readonly queues: RoomQueues;
  /** Transactions scheduled and not yet recorded as finished, by seq. */
  private readonly scheduledTxns = new Set<number>();
  /**
   * Transactions finished lately. A retry that read "pending" just before the processed mark
   * was written must not schedule them again.
   */
  private readonly finishedRecently = new Set<number>();
  private pendingEvents = 0;
  private done: number[] = [];
  private scheduled: Promise<void> | undefined;
  private lastFlush: Promise<void> = Promise.resolve();
  private readonly db: Database;
  private readonly process: EventProcessor;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly maxPending: number;

  constructor(db: Database, process: EventProcessor, metrics: Metrics, log: Logger, maxPending = DEFAULT_MAX_PENDING_EVENTS) {
    this.db = db;
    this.process = process;
    this.metrics = metrics;
    this.log = log;
    this.maxPending = maxPending;
    this.queues = new RoomQueues((err, roomId) => { log.error({ err, roomId }, "room queue failure"); });
  }

  /** True while too many events wait in memory to take another transaction. */
  get overloaded(): boolean {
    return this.pendingEvents >= this.maxPending;
  }

  /** True once the backlog is down to half the limit: time to ask for more (hysteresis). */
  get relieved(): boolean {
    return this.pendingEvents < this.maxPending / 2;
  }

  /** Stores the transaction (throws when the database fails), then schedules its events. */
  async receive(txnId: string, body: string, txn: DecodedTransaction): Promise<"stored" | "duplicate"> {
    const stored = await storeTransaction(this.db, txnId, body, txn);
    if (!stored.isNew) {
      // Stored by an earlier attempt whose answer failed: make sure it is being processed.
      if (stored.pending && !this.scheduledTxns.has(stored.seq) && !this.finishedRecently.has(stored.seq)) this.schedule(stored);
      return "duplicate";
    }
    for (const ev of stored.events) this.metrics.events.inc({ type: eventTypeLabel(ev.type) });
    this.schedule(stored);
    return "stored";
  }

  /** Schedules the transactions stored but not finished before the last stop. */
  async recover(): Promise<number> {
    const pending = await pendingTransactions(this.db);
    for (const txn of pending) this.schedule(txn);
    return pending.length;
  }

  /** Waits until every scheduled event is processed and recorded as such. */
  async drain(): Promise<void> {
    await this.queues.drain();
    await this.scheduled;
    await this.flush();
  }

  private schedule(txn: StoredTransaction): void {
    this.scheduledTxns.add(txn.seq);
    let remaining = txn.events.length;
    if (remaining === 0) this.markDone(txn.seq);
    const started = process.hrtime.bigint();
    this.pendingEvents += remaining;
    this.metrics.pending.set(this.pendingEvents);
    for (const event of txn.events) {
      this.queues.enqueue(event.room_id, async () => {
        let finished = true;
        try {
          const failures = await this.process(event);
          if (failures.length > 0) await recordFailure(this.db, txn.seq, event, failures.join("; "));
          this.metrics.processing.observe(Number(process.hrtime.bigint() - started) / 1e9);
        } catch (err) {
          // Interrupted: not done, so the transaction stays pending for the next start.
          // Anything else (recording the failure failed): logged by the queue, counted as done.
          finished = !(err instanceof Interrupted);
          if (finished) throw err;
        } finally {
          this.pendingEvents--;
          this.metrics.pending.set(this.pendingEvents);
          if (finished && --remaining === 0) this.markDone(txn.seq);
        }
      });
    }
  }

  /** Processed marks are written in batches: one UPDATE for many transactions. */
  private markDone(seq: number): void {
    this.done.push(seq);
    this.scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.scheduled = undefined;
      return this.flush();
    });
  }

  /** Flushes run one after another, so that awaiting a flush awaits every earlier one. */
  private flush(): Promise<void> {
    this.lastFlush = this.lastFlush.then(() => this.write());
    return this.lastFlush;
  }

  private async write(): Promise<void> {
    const batch = this.done;
    this.done = [];
    if (batch.length === 0) return;
    try {
      await markProcessed(this.db, batch);
      for (const seq of batch) {
        this.scheduledTxns.delete(seq);
        this.finishedRecently.add(seq);
      }
      // Sets iterate in insertion order: forget the oldest beyond a few thousand.
      for (const seq of this.finishedRecently) {
        if (this.finishedRecently.size <= 5_000) break;
        this.finishedRecently.delete(seq);
      }
    } catch (err) {
      // Keep them for the next flush. After a crash they are processed again (at least once).
      this.done.push(...batch);
      this.log.warn({ err, count: batch.length }, "could not record processed transactions; will retry");
    }
  }
}
