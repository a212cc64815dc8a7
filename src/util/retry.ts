// Retrying work that failed for a passing reason (the homeserver restarting, rate limits), with
// back-off, until it succeeds or Loket stops.
import { setTimeout as sleep } from "node:timers/promises";

/** Thrown when Loket stops while work waits for a retry: the work is not done, not failed. */
export class Interrupted extends Error {
  constructor() {
    super("interrupted by shutdown");
  }
}

export interface RetryPolicy {
  isTransient(err: unknown): boolean;
  signal: AbortSignal;
  firstDelayMs: number;
  maxDelayMs: number;
  /** Give up (and throw the last error) once this much time has passed; default: never. */
  giveUpAfterMs?: number;
  onRetry?(err: unknown, attempt: number, delayMs: number): void;
}

export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  let delay = policy.firstDelayMs;
  const deadline = Date.now() + (policy.giveUpAfterMs ?? Infinity);
  const stopping = (): boolean => policy.signal.aborted;
  for (let attempt = 1; ; attempt++) {
    if (stopping()) throw new Interrupted();
    try {
      return await fn();
    } catch (err) {
      // A call cut short by the stop is not a failure of the work.
      if (stopping()) throw new Interrupted();
      if (!policy.isTransient(err) || Date.now() + delay > deadline) throw err;
      policy.onRetry?.(err, attempt, delay);
      try {
        await sleep(delay, undefined, { signal: policy.signal });
      } catch {
        throw new Interrupted();
      }
      delay = Math.min(delay * 2, policy.maxDelayMs);
    }
  }
}
