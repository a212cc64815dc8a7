// Group commit: the rooms of a municipality archive concurrently, but its chain has one head.
// Instead of each room's batch taking the head's lock in a transaction of its own, the batches
// waiting for a municipality (those that arrive within one turn of the event loop, and those
// that arrive while a write is under way) are written together, up to MAX_BATCH events per
// transaction, one transaction at a time, in the order they arrived. Each room waits for its
// own batch, so a room's order holds. The writer remembers each chain's head as its last write
// left it, so that a batch usually takes one statement (see capture.ts).
import type { Database } from "../db/database.ts";
import { captureBatch, type CaptureInput, type CaptureResult, type ChainHead } from "./capture.ts";

interface Pending { inputs: CaptureInput[]; resolve(r: CaptureResult[]): void; reject(err: unknown): void }

export const MAX_BATCH = 500;

/** SQLSTATE classes of errors that no retry can fix (bad data, constraint violations). */
const LASTING = /^(22|23|42)/;

export function isLasting(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && LASTING.test(code);
}

/** The first pendings of the queue that together hold at most `max` events (at least one). */
export function takeBatch<T extends { inputs: readonly unknown[] }>(queue: T[], max: number): T[] {
  let events = 0;
  let n = 0;
  while (n < queue.length && (n === 0 || events + (queue[n]?.inputs.length ?? 0) <= max)) events += queue[n++]?.inputs.length ?? 0;
  return queue.splice(0, n);
}

export class ArchiveWriter {
  private readonly db: Database;
  private readonly queues = new Map<string, Pending[]>();
  private readonly running = new Set<string>();
  /** Each chain's head after this process's last write; forgotten on any failure. */
  private readonly heads = new Map<string, ChainHead>();

  constructor(db: Database) {
    this.db = db;
  }

  /** Archives one room's batch, in order; resolves once it is committed (results: same index). */
  async write(inputs: readonly CaptureInput[]): Promise<CaptureResult[]> {
    // A room belongs to one municipality; should its context change within a batch, each
    // municipality's share goes to its own chain.
    const parts = new Map<string, number[]>();
    inputs.forEach((input, i) => {
      const m = input.context.municipality;
      const part = parts.get(m);
      if (part) part.push(i);
      else parts.set(m, [i]);
    });
    const results: CaptureResult[] = inputs.map(() => ({ archived: false }));
    await Promise.all([...parts].map(async ([m, indexes]) => {
      const written = await this.enqueue(m, indexes.map((i) => inputs[i] as CaptureInput));
      indexes.forEach((i, k) => { results[i] = written[k] ?? { archived: false }; });
    }));
    return results;
  }

  private enqueue(municipality: string, inputs: CaptureInput[]): Promise<CaptureResult[]> {
    return new Promise((resolve, reject) => {
      const q = this.queues.get(municipality) ?? [];
      q.push({ inputs, resolve, reject });
      this.queues.set(municipality, q);
      if (this.running.has(municipality)) return;
      this.running.add(municipality);
      // The other rooms of the same transaction arrive within this turn: wait for them.
      setImmediate(() => { void this.drain(municipality); });
    });
  }

  private async drain(municipality: string): Promise<void> {
    try {
      for (let q = this.queues.get(municipality); q && q.length > 0; q = this.queues.get(municipality)) {
        const batch = takeBatch(q, MAX_BATCH);
        try {
          const results = await this.capture(municipality, batch.flatMap((p) => p.inputs));
          let i = 0;
          for (const p of batch) {
            p.resolve(results.slice(i, i + p.inputs.length));
            i += p.inputs.length;
          }
        } catch (err) {
          if (batch.length > 1 && isLasting(err)) {
            // One room's events cannot be archived: the other rooms must not fail with them.
            for (const p of batch) await this.capture(municipality, p.inputs).then((r) => { p.resolve(r); }, (e: unknown) => { p.reject(e); });
          } else {
            // Every room of the batch retries (see capability.ts).
            for (const p of batch) p.reject(err);
          }
        }
      }
    } finally {
      this.running.delete(municipality);
    }
  }

  private async capture(municipality: string, inputs: CaptureInput[]): Promise<CaptureResult[]> {
    try {
      const { results, head } = await captureBatch(this.db, municipality, inputs, this.heads.get(municipality));
      this.heads.set(municipality, head);
      return results;
    } catch (err) {
      this.heads.delete(municipality);
      throw err;
    }
  }
}
