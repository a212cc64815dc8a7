// Archive hooks: every archived record is POSTed to each configured URL from a persistent outbox
// (archive_hook_outbox), at least once, in order per conversation: a conversation's next record
// is sent only after the one before it was accepted (2xx). Failures back off (1 s doubling up to
// archive.hook_retry_max_seconds) and are retried for ever. Outbox rows name their hook by its
// URL, so reordering archive.hooks changes nothing, and the rows of a removed hook wait (they
// are delivered if it comes back). Each attempt has one timeout for the request, the answer's
// headers and its body, so a receiver that stalls half-way cannot hold the queue.
import { createHmac } from "node:crypto";
import type { Database } from "../db/database.ts";
import type { Logger } from "../logging.ts";

export interface HookTarget { url: string; secret: string }

export const SIGNATURE_HEADER = "X-Loket-Signature";
/** One delivery attempt, answer body included. */
export const HOOK_TIMEOUT_MS = 30_000;
/** What is read of a receiver's answer (for the log when it refused). */
const ANSWER_LIMIT = 1024;

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

interface OutboxRow {
  id: string; attempts: number; municipality: string; seq: string; conversation: string; reference: string | null;
  room_id: string; event_id: string; event_type: string; sender: string; origin_server_ts: string; received_at: Date;
  content: unknown; ciphertext: unknown; content_sha256: string; prev_hash: string; hash: string; destroyed_at: Date | null;
}

/** The JSON body of one delivery (contract: see README, "Archive hooks"). */
export function hookBody(r: OutboxRow): string {
  return JSON.stringify({
    municipality: r.municipality, seq: Number(r.seq), conversation: r.conversation, reference: r.reference,
    room_id: r.room_id, event_id: r.event_id, event_type: r.event_type, sender: r.sender,
    origin_server_ts: Number(r.origin_server_ts), received_at: new Date(r.received_at).toISOString(),
    event: r.content, ciphertext: r.ciphertext, content_sha256: r.content_sha256, prev_hash: r.prev_hash, hash: r.hash,
    destroyed: r.destroyed_at !== null,
  });
}

/**
 * Rows written before hooks were keyed by URL name their hook by its position (hook_url NULL):
 * they are given the URL at that position now. Returns how many are left without one (their
 * position is beyond the configured hooks); they are never delivered.
 */
export async function adoptPositionalRows(db: Database, hooks: readonly HookTarget[], log: Logger): Promise<number> {
  const urls = hooks.map((h) => h.url);
  await db.query("UPDATE archive_hook_outbox SET hook_url = ($1::text[])[hook + 1] WHERE hook_url IS NULL AND hook < $2", [urls, urls.length]);
  const [left] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM archive_hook_outbox WHERE hook_url IS NULL AND delivered_at IS NULL");
  if (left && left.n > 0) log.warn({ count: left.n }, "pending archive hook deliveries name a hook position beyond archive.hooks; they are not delivered");
  return left?.n ?? 0;
}

export async function deliverHooks(db: Database, hooks: readonly HookTarget[], log: Logger, signal: AbortSignal, maxDelaySeconds = 300, timeoutMs = HOOK_TIMEOUT_MS): Promise<void> {
  for (const hook of hooks) {
    for (;;) {
      if (signal.aborted) return;
      // The oldest undelivered row of each conversation, if it is due.
      const rows = await db.query<OutboxRow>(
        `SELECT h.* FROM (
           SELECT DISTINCT ON (o.conversation) o.id::text AS id, o.attempts, o.next_attempt_at, r.municipality, r.seq::text AS seq,
             r.conversation, r.reference, r.room_id, r.event_id, r.event_type, r.sender, r.origin_server_ts::text AS origin_server_ts,
             r.received_at, r.content, r.ciphertext, r.content_sha256, r.prev_hash, r.hash, r.destroyed_at
           FROM archive_hook_outbox o JOIN archive_records r ON r.id = o.record_id
           WHERE o.hook_url = $1 AND o.delivered_at IS NULL ORDER BY o.conversation, o.id) h
         WHERE h.next_attempt_at <= now() LIMIT 100`,
        [hook.url],
      );
      if (rows.length === 0) break;
      const results = await Promise.all(rows.map((row) => deliverOne(db, hook, row, log, AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]), maxDelaySeconds)));
      if (!results.some(Boolean)) break;
    }
  }
}

/** `signal` ends the attempt: Loket stopping, or the attempt's timeout (request, headers and body). */
async function deliverOne(db: Database, hook: HookTarget, row: OutboxRow, log: Logger, signal: AbortSignal, maxDelaySeconds: number): Promise<boolean> {
  const body = hookBody(row);
  try {
    const res = await fetch(hook.url, {
      method: "POST",
      headers: { "content-type": "application/json", [SIGNATURE_HEADER]: signature(hook.secret, body), "X-Loket-Event-Id": row.event_id },
      body,
      signal,
    });
    // Read under the same signal: an answer whose body never ends times out like no answer.
    const answer = await readAnswer(res);
    if (!res.ok) throw new Error(`receiver answered ${res.status}${answer === "" ? "" : `: ${answer}`}`);
    await db.query("UPDATE archive_hook_outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1", [row.id]);
    return true;
  } catch (err) {
    const delay = Math.min(2 ** row.attempts, maxDelaySeconds);
    log.warn({ err: String(err), url: hook.url, eventId: row.event_id, attempts: row.attempts + 1, delaySeconds: delay }, "archive hook delivery failed; will retry");
    await db.query(
      "UPDATE archive_hook_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1",
      [row.id, String(err).slice(0, 500), delay],
    );
    return false;
  }
}

/** The first ANSWER_LIMIT bytes of the answer as text; the rest is read and dropped. */
async function readAnswer(res: Response): Promise<string> {
  if (!res.body) return "";
  const kept: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    if (size < ANSWER_LIMIT) kept.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(kept).subarray(0, ANSWER_LIMIT).toString("utf8");
}
