// Every failure of a call to the homeserver is classified here, once: transient failures may
// pass and are retried (in the room that made the call only); lasting ones are reported.
import { ConnectionError, MatrixError } from "matrix-js-sdk";

export type Failure =
  | { kind: "transient"; reason: string; retryAfterMs?: number }
  | { kind: "lasting"; reason: string };

/** The homeserver (or the network to it) did not answer at all: no HTTP response came back. */
export function isUnreachable(err: unknown): boolean {
  if (err instanceof ConnectionError) return true;
  if (err instanceof Error && err.name === "TimeoutError") return true;
  return err instanceof TypeError && err.message.includes("fetch failed");
}

/**
 * Transient: no answer (connection refused or reset, timeout), 429 (with the server's
 * retry_after_ms or Retry-After when it gives one) and every 5xx. Lasting: every other HTTP
 * error (403 M_FORBIDDEN, 404, 400 ...) and anything that is not a homeserver failure at all
 * (a bug), which retrying would only repeat.
 */
export function classify(err: unknown): Failure {
  if (isUnreachable(err)) return { kind: "transient", reason: "unreachable" };
  if (err instanceof Error && err.name === "AbortError") return { kind: "transient", reason: "aborted" };
  if (err instanceof MatrixError) {
    const status = err.httpStatus ?? 0;
    if (status === 429 || err.errcode === "M_LIMIT_EXCEEDED") {
      return { kind: "transient", reason: "rate-limited", retryAfterMs: retryAfter(err) };
    }
    if (status >= 500) return { kind: "transient", reason: `http-${status}` };
    return { kind: "lasting", reason: err.errcode ?? `http-${status}` };
  }
  return { kind: "lasting", reason: "error" };
}

export const isTransient = (err: unknown): boolean => classify(err).kind === "transient";

function retryAfter(err: MatrixError): number | undefined {
  try {
    return err.getRetryAfterMs() ?? undefined;
  } catch {
    return undefined;
  }
}
