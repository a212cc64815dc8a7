// What waits in memory: events and their bytes. A transaction is admitted only if it fits
// within both limits, counted before it is stored, so the bound holds exactly: the backlog
// never exceeds the limits, except that one transaction is always admitted into an empty
// backlog (else a transaction larger than the limit would be refused for ever).
import type { Metrics } from "../http/metrics.ts";

export interface BacklogLimits {
  maxEvents: number;
  /** Bytes of the stored bodies (JSON); parsed, the events take a few times that in memory. */
  maxBytes: number;
}

export class Backlog {
  private events = 0;
  private bytes = 0;
  private waiters: (() => void)[] = [];
  private readonly limits: BacklogLimits;
  private readonly metrics: Metrics;

  constructor(limits: BacklogLimits, metrics: Metrics) {
    this.limits = limits;
    this.metrics = metrics;
  }

  /** Reserves room for a transaction; false when it does not fit (unless `always`). */
  admit(events: number, bytes: number, always = false): boolean {
    const empty = this.events === 0 && this.bytes === 0;
    if (!empty && !always && (this.events + events > this.limits.maxEvents || this.bytes + bytes > this.limits.maxBytes)) return false;
    this.events += events;
    this.bytes += bytes;
    this.report();
    return true;
  }

  /** Gives back room: events as each is done, bytes when the whole transaction is. */
  release(events: number, bytes: number): void {
    this.events -= events;
    this.bytes -= bytes;
    this.report();
    if (this.relieved) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
  }

  /** True while a transaction of average size would not fit. */
  get full(): boolean {
    return this.events >= this.limits.maxEvents || this.bytes >= this.limits.maxBytes;
  }

  /** True once the backlog is down to half of both limits: time to ask for more (hysteresis). */
  get relieved(): boolean {
    return this.events < this.limits.maxEvents / 2 && this.bytes < this.limits.maxBytes / 2;
  }

  /** Resolves once relieved. */
  whenRelieved(): Promise<void> {
    if (this.relieved) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private report(): void {
    this.metrics.pending.set(this.events);
    this.metrics.pendingBytes.set(this.bytes);
  }
}
