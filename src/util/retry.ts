// Retrying work that failed for a passing reason (the homeserver restarting, rate limits), with
// exponential back-off and jitter, until it succeeds, the time is up, or Loket stops.
import { setTimeout as sleep } from "node:timers/promises";

/** Thrown when Loket stops while work waits for a retry: the work is not done, not failed. */
export class Interrupted extends Error {
  constructor() {
    super("interrupted by shutdown");
  }
}

export interface RetryPolicy {
  /** True when the failure may pass; may also say how long the server asked us to wait. */
  isTransient(err: unknown): boolean;
  retryAfterMs?(err: unknown): number | undefined;
  signal: AbortSignal;
  firstDelayMs: number;
  maxDelayMs: number;
  /** Give up (and throw the last error) once this much time has passed; default: never. */
  giveUpAfterMs?: number;
  onRetry?(err: unknown, attempt: number, delayMs: number): void;
}

/**
 * A delay between half and all of `ms` ("equal jitter"): after an outage, thousands of rooms
 * that failed in the same second spread their retries instead of returning in lockstep.
 */
export function jittered(ms: number, random: () => number = Math.random): number {
  return Math.round(ms / 2 + random() * (ms / 2));
}

export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  if (policy.signal.aborted) throw new Interrupted();
  try {
    return await fn();
  } catch (err) {
    return retryAfter(err, fn, policy);
  }
}

/**
 * Runs `fn` now, retried as withRetry does, without a promise of its own when `fn` finishes
 * synchronously (returns undefined): for work done for every event, most of which finishes at
 * once. A synchronous throw is handled as a rejection. Throws Interrupted when Loket has stopped.
 */
export function attemptWithRetry(fn: () => Promise<void> | undefined, policy: RetryPolicy): Promise<void> | undefined {
  if (policy.signal.aborted) throw new Interrupted();
  const again = (): Promise<void> => fn() ?? Promise.resolve();
  try {
    return fn()?.catch((err: unknown) => retryAfter(err, again, policy));
  } catch (err) {
    return retryAfter(err, again, policy);
  }
}

/**
 * What withRetry does once the first attempt has failed with `firstError`: for callers that make
 * that attempt themselves (attemptWithRetry). `giveUpAfterMs` counts from this call.
 */
async function retryAfter<T>(firstError: unknown, fn: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  let delay = policy.firstDelayMs;
  const deadline = Date.now() + (policy.giveUpAfterMs ?? Infinity);
  const stopping = (): boolean => policy.signal.aborted;
  let err = firstError;
  for (let attempt = 1; ; attempt++) {
    // A call cut short by the stop is not a failure of the work.
    if (stopping()) throw new Interrupted();
    const wait = Math.max(jittered(delay), policy.retryAfterMs?.(err) ?? 0);
    if (!policy.isTransient(err) || Date.now() + wait > deadline) throw err;
    policy.onRetry?.(err, attempt, wait);
    try {
      await sleep(wait, undefined, { signal: policy.signal });
    } catch {
      throw new Interrupted();
    }
    delay = Math.min(delay * 2, policy.maxDelayMs);
    if (stopping()) throw new Interrupted();
    try {
      return await fn();
    } catch (next) {
      err = next;
    }
  }
}
