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
  onRetry?(err: unknown, attempt: number, delayMs: number): void;
}

export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  let delay = policy.firstDelayMs;
  for (let attempt = 1; ; attempt++) {
    if (policy.signal.aborted) throw new Interrupted();
    try {
      return await fn();
    } catch (err) {
      if (!policy.isTransient(err)) throw err;
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
