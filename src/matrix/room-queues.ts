// Per-room ordered processing: each room's jobs run one after another, rooms run in parallel.
// A failing job is reported through onError and never stops its room or any other.

export class RoomQueues {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly onError: (err: unknown, roomId: string) => void;

  constructor(onError: (err: unknown, roomId: string) => void) {
    this.onError = onError;
  }

  enqueue(roomId: string, job: () => Promise<void>): void {
    const previous = this.tails.get(roomId) ?? Promise.resolve();
    const next = previous.then(job).catch((err: unknown) => { this.onError(err, roomId); });
    this.tails.set(roomId, next);
    void next.then(() => {
      if (this.tails.get(roomId) === next) this.tails.delete(roomId);
    });
  }

  /** Resolves when every job enqueued so far has finished. */
  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }

  get activeRooms(): number {
    return this.tails.size;
  }
}
