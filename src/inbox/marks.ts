// Processed marks, written in batches and in order: a transaction is marked processed only when
// every transaction scheduled before it (lower seq) is finished too. The processed ones are
// then always a prefix of the inbox, so a restart resumes a suffix in order and each room's
// events run again in their order: an old invite never runs after a later kick of the same
// room that was already processed.
import type { Logger } from "../logging.ts";

/**
 * Marks wait this long for company: one write for the transactions finished meanwhile (a busy
 * inbox finishes one every few milliseconds). A crash loses at most these marks, and their
 * transactions are processed again (at least once).
 */
export const MARK_DELAY_MS = 10;

export class Marks {
  /** Scheduled and not finished. */
  private readonly unfinished = new Set<number>();
  /** Finished, not yet written. */
  private finished: number[] = [];
  private scheduled: Promise<void> | undefined;
  private lastFlush: Promise<void> = Promise.resolve();
  private readonly write: (seqs: number[]) => Promise<void>;
  private readonly onWritten: (seqs: number[]) => void;
  private readonly log: Logger;

  constructor(write: (seqs: number[]) => Promise<void>, onWritten: (seqs: number[]) => void, log: Logger) {
    this.write = write;
    this.onWritten = onWritten;
    this.log = log;
  }

  started(seq: number): void {
    this.unfinished.add(seq);
  }

  /** Records that every event of the transaction is done; its mark is written soon. */
  finish(seq: number): void {
    this.unfinished.delete(seq);
    this.finished.push(seq);
    // One write for everything finished within MARK_DELAY_MS.
    this.scheduled ??= new Promise<void>((resolve) => setTimeout(resolve, MARK_DELAY_MS)).then(() => {
      this.scheduled = undefined;
      return this.flush();
    });
  }

  /** Flushes run one after another, so that awaiting a flush awaits every earlier one. */
  async flush(): Promise<void> {
    await this.scheduled;
    this.lastFlush = this.lastFlush.then(() => this.writeReady());
    return this.lastFlush;
  }

  private async writeReady(): Promise<void> {
    let barrier = Infinity;
    for (const seq of this.unfinished) barrier = Math.min(barrier, seq);
    const ready = this.finished.filter((s) => s < barrier);
    if (ready.length === 0) return;
    this.finished = this.finished.filter((s) => s >= barrier);
    try {
      await this.write(ready);
      this.onWritten(ready);
    } catch (err) {
      // Kept for the next flush. After a crash they are processed again (at least once).
      this.finished.push(...ready);
      this.log.warn({ err, count: ready.length }, "could not record processed transactions; will retry");
    }
  }
}
