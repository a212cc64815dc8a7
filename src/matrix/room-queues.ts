// Per-room ordered processing: each room's jobs run one after another, rooms run in parallel.
// A failing job is reported through onError and never stops its room or any other.
//
// Jobs start in slices of the event loop (setImmediate), not as microtasks of whoever queued
// them: the homeserver's next transaction (socket I/O) is read between two slices, so that
// Loket stores it while the previous transactions are processed, instead of after. Without the
// slices, the events queued by a stored transaction were processed before its 200 was even
// written, since most events' hooks finish synchronously.

/** Starts jobs in turns of the event loop, each turn running jobs for about `sliceMs`. */
class Slices {
  private readonly sliceMs: number;
  private readonly ready: (() => void)[] = [];
  private next = 0;
  private scheduled = false;

  constructor(sliceMs: number) {
    this.sliceMs = sliceMs;
  }

  /** Runs the job in a coming slice; settles as its promise does. */
  run(job: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.ready.push(() => {
        try {
          job().then(resolve, reject);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.slice);
      }
    });
  }

  private readonly slice = (): void => {
    const until = performance.now() + this.sliceMs;
    do {
      const start = this.ready[this.next];
      this.ready[this.next++] = noop;
      start?.();
    } while (this.next < this.ready.length && performance.now() < until);
    if (this.next >= this.ready.length) {
      this.ready.length = 0;
      this.next = 0;
      this.scheduled = false;
      return;
    }
    // Started jobs leave the array now and then, not one shift() at a time.
    if (this.next >= 1024) {
      this.ready.splice(0, this.next);
      this.next = 0;
    }
    setImmediate(this.slice);
  };
}

const noop = (): void => undefined;

export class RoomQueues {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly onError: (err: unknown, roomId: string) => void;
  private readonly slices: Slices;

  /** `sliceMs`: how long jobs run before socket I/O is read again (the synchronous parts of jobs). */
  constructor(onError: (err: unknown, roomId: string) => void, opts: { sliceMs?: number } = {}) {
    this.onError = onError;
    this.slices = new Slices(opts.sliceMs ?? 1);
  }

  enqueue(roomId: string, job: () => Promise<void>): void {
    const previous = this.tails.get(roomId);
    const start = (): Promise<void> => this.slices.run(job);
    const next = (previous ? previous.then(start) : start()).catch((err: unknown) => { this.onError(err, roomId); });
    this.tails.set(roomId, next);
    void next.then(() => {
      if (this.tails.get(roomId) === next) this.tails.delete(roomId);
    });
  }

  /** Resolves when every job enqueued so far has finished. */
  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }

  /** True when the room has no job queued or running. */
  isIdle(roomId: string): boolean {
    return !this.tails.has(roomId);
  }

  get activeRooms(): number {
    return this.tails.size;
  }
}
