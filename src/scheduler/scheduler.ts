// Runs timers when they are due. Timers are rows (timers.ts), not sleeps: a restart forgets
// none, and with several Loket processes on one database each timer runs once (claims with a
// lease and SKIP LOCKED). The clock is injected so that tests control time.
import type { Database } from "../db/database.ts";
import type { Logger } from "../logging.ts";
import { claimDue, markFired, nextDue, type Timer } from "./timers.ts";

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

const CLAIM_BATCH = 10;

export type TimerHandler = (timer: Timer, now: Date) => Promise<void>;

export interface SchedulerOptions {
  /** How long a claimed timer is held; a handler that fails or a process that dies frees it then. */
  leaseMs?: number;
  /** The longest sleep between looks at the table (timers set by other processes). */
  pollMs?: number;
  /** Whether a handler's failure may pass (then the timer runs again after its lease); others end it. */
  isTransient?: (err: unknown) => boolean;
}

export class Scheduler {
  private readonly handlers = new Map<string, TimerHandler>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = true;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly isTransient: (err: unknown) => boolean;
  private readonly db: Database;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(db: Database, clock: Clock, log: Logger, opts: SchedulerOptions = {}) {
    this.db = db;
    this.clock = clock;
    this.log = log;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.pollMs = opts.pollMs ?? 30_000;
    this.isTransient = opts.isTransient ?? (() => true);
  }

  /** Registers the handler of one kind of timer (capabilities do this at start-up). */
  on(kind: string, handler: TimerHandler): void {
    if (this.handlers.has(kind)) throw new Error(`two handlers for timers of kind '${kind}'`);
    this.handlers.set(kind, handler);
  }

  /** Runs every timer due now; returns how many ran. A failing handler is retried after its lease. */
  async tick(): Promise<number> {
    const now = this.clock.now();
    let ran = 0;
    // Claimed a few at a time, so that each batch runs well within its lease; until none is left.
    for (;;) {
      const due = await claimDue(this.db, now, this.leaseMs, CLAIM_BATCH);
      ran += await this.runAll(due, now);
      if (due.length < CLAIM_BATCH) return ran;
    }
  }

  private async runAll(due: Timer[], now: Date): Promise<number> {
    let ran = 0;
    for (const t of due) {
      const handler = this.handlers.get(t.kind);
      if (!handler) {
        this.log.warn({ kind: t.kind, key: t.key }, "no handler for a due timer; it stays armed");
        continue;
      }
      try {
        await handler(t, now);
        await markFired(this.db, t, now);
        ran++;
      } catch (err) {
        if (this.isTransient(err)) {
          this.log.error({ err, kind: t.kind, key: t.key }, "timer handler failed; it runs again when its lease ends");
        } else {
          this.log.error({ err, kind: t.kind, key: t.key }, "timer handler failed for good; the timer is ended");
          await markFired(this.db, t, now);
        }
      }
    }
    return ran;
  }

  /** Looks at the table now and again: at the next due time, at the latest every pollMs. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Wakes the loop at once (after setting a timer that may be due soon). */
  poke(): void {
    if (!this.stopped) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.loop();
    }, delayMs);
  }

  private async loop(): Promise<void> {
    let wait = this.pollMs;
    try {
      await this.tick();
      const next = await nextDue(this.db);
      if (next) wait = Math.min(wait, Math.max(0, next.getTime() - this.clock.now().getTime()));
    } catch (err) {
      this.log.warn({ err }, "could not look at the timers; trying again");
    }
    if (!this.stopped) this.schedule(Math.max(wait, 50));
  }
}
