// Group commit: the rooms of a municipality archive concurrently, but its chain has one head.
// Instead of each event taking the head's lock in a transaction of its own, the events waiting
// for a municipality are written together (up to 500 per transaction), one batch at a time, in
// the order they arrived. Each room still waits for its own event, so a room's order holds.
import type { Database } from "../db/database.ts";
import { captureBatch, type CaptureInput, type CaptureResult } from "./capture.ts";

interface Pending { input: CaptureInput; resolve(r: CaptureResult): void; reject(err: unknown): void }

export const MAX_BATCH = 500;

export class ArchiveWriter {
  private readonly db: Database;
  private readonly queues = new Map<string, Pending[]>();
  private readonly running = new Set<string>();

  constructor(db: Database) {
    this.db = db;
  }

  write(input: CaptureInput): Promise<CaptureResult> {
    const m = input.context.municipality;
    return new Promise((resolve, reject) => {
      const q = this.queues.get(m) ?? [];
      q.push({ input, resolve, reject });
      this.queues.set(m, q);
      if (!this.running.has(m)) void this.drain(m);
    });
  }

  private async drain(municipality: string): Promise<void> {
    this.running.add(municipality);
    try {
      for (let q = this.queues.get(municipality); q && q.length > 0; q = this.queues.get(municipality)) {
        const batch = q.splice(0, MAX_BATCH);
        try {
          const results = await captureBatch(this.db, municipality, batch.map((p) => p.input));
          batch.forEach((p, i) => { p.resolve(results[i] ?? { archived: false }); });
        } catch (err) {
          // Every event of the batch is retried by its room (see capability.ts).
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.running.delete(municipality);
    }
  }
}
