// The inbox tables (migrations 0001, 0002): transactions are stored, bytes as received, before
// they are acknowledged; transactions Loket cannot use are kept apart as poison.
import { hash } from "node:crypto";
import type { Database } from "../db/database.ts";
import { decodeTransaction, type RawEvent } from "../matrix/events.ts";

export interface StoredTransaction {
  seq: number;
  events: RawEvent[];
  /** Size of the stored body: what the transaction weighs in the backlog. */
  bytes: number;
}

export interface StoreResult {
  seq: number;
  /** False when this transaction (same id, same events) was stored before. */
  isNew: boolean;
  /** False when it was stored before and has been processed completely. */
  pending: boolean;
}

/**
 * Stores a transaction, keyed by its id and its events' ids. It is a duplicate when a
 * transaction with the same id and the same events was stored before: Synapse retries with the
 * same events (ephemeral data dropped), while a homeserver whose counter was reset sends new
 * events under an old id, which must not be lost. A duplicate still reports whether it is
 * pending: a store that committed although its answer failed is followed by Synapse's retry,
 * which must not leave it waiting.
 */
export async function storeTransaction(db: Database, txnId: string, body: Buffer, eventIds: readonly string[]): Promise<StoreResult> {
  const digest = hash("sha256", eventIds.join("\n"), "hex");
  const [inserted] = await db.query<{ seq: string }>(
    `INSERT INTO inbox_transactions (txn_id, events_sha256, event_count, body) VALUES ($1, $2, $3, $4)
     ON CONFLICT (txn_id, events_sha256) DO NOTHING RETURNING seq::text AS seq`,
    [txnId, digest, eventIds.length, body],
  );
  if (inserted) return { seq: Number(inserted.seq), isNew: true, pending: true };
  const [existing] = await db.query<{ seq: string; pending: boolean }>(
    "SELECT seq::text AS seq, processed_at IS NULL AS pending FROM inbox_transactions WHERE txn_id = $1 AND events_sha256 = $2",
    [txnId, digest],
  );
  if (!existing) throw new Error(`transaction ${txnId} conflicted but cannot be found`);
  return { seq: Number(existing.seq), isNew: false, pending: existing.pending };
}

/** Removes a transaction stored before its body was found not to be one. */
export async function deleteTransaction(db: Database, seq: number): Promise<void> {
  await db.query("DELETE FROM inbox_transactions WHERE seq = $1", [seq]);
}

/** pg returns bytea as a Buffer, PGlite as a Uint8Array. */
const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export async function countPending(db: Database): Promise<number> {
  const [row] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM inbox_transactions WHERE processed_at IS NULL");
  return row?.n ?? 0;
}

/**
 * Up to `limit` transactions stored but not completely processed, after `afterSeq`, oldest
 * first. One whose body does not decode (see Inbox.store) has no events and says why
 * (`unusable`).
 */
export async function pendingTransactions(db: Database, afterSeq = 0, limit = 1_000): Promise<(StoredTransaction & { unusable?: string })[]> {
  const rows = await db.query<{ seq: string; body: Uint8Array }>(
    // Order by the column: "ORDER BY seq" would sort the text alias, and put seq 10 before 9.
    `SELECT t.seq::text AS seq, t.body FROM inbox_transactions t
     WHERE t.processed_at IS NULL AND t.seq > $1 ORDER BY t.seq LIMIT $2`,
    [afterSeq, limit],
  );
  return rows.map((r) => {
    const body = asBuffer(r.body);
    const stored = { seq: Number(r.seq), bytes: body.length };
    let txn: ReturnType<typeof decodeTransaction>;
    try {
      txn = decodeTransaction(JSON.parse(body.toString("utf8")));
    } catch {
      txn = "the body is not valid JSON";
    }
    return typeof txn === "string" ? { ...stored, events: [], unusable: txn } : { ...stored, events: txn.events };
  });
}

/** Moves a stored transaction to inbox_poison (id and body as stored), in one statement. */
export async function moveToPoison(db: Database, seq: number, reason: string): Promise<void> {
  await db.query(
    `WITH gone AS (DELETE FROM inbox_transactions WHERE seq = $1 RETURNING txn_id, body)
     INSERT INTO inbox_poison (txn_id, body, reason) SELECT convert_to(txn_id, 'UTF8'), body, $2 FROM gone`,
    [seq, storable(reason)],
  );
}

/**
 * Marks transactions as processed. The commit does not wait for the disk: a mark lost in a
 * crash only means the transaction is processed again at the next start, which handlers
 * tolerate (delivery is at least once), so the 200s' synchronous commits need not wait for it.
 */
export async function markProcessed(db: Database, seqs: number[]): Promise<void> {
  if (seqs.length === 0) return;
  // One round trip: the statements of one simple query run in one implicit transaction, which
  // SET LOCAL applies to. The seqs are integers Loket read from the database.
  const list = seqs.map((s) => String(Math.trunc(s))).join(",");
  await db.exec(`SET LOCAL synchronous_commit = off; UPDATE inbox_transactions SET processed_at = now() WHERE seq IN (${list})`);
}

/** Text PostgreSQL takes whatever the event held: no NUL, no lone surrogates. */
const storable = (s: string): string => s.toWellFormed().replaceAll("\u0000", "\uFFFD");

export async function recordFailure(db: Database, txnSeq: number, event: RawEvent, failure: string): Promise<void> {
  await db.query(
    "INSERT INTO inbox_failures (txn_seq, event_id, room_id, failure) VALUES ($1, $2, $3, $4)",
    [txnSeq, storable(event.event_id), storable(event.room_id), storable(failure.slice(0, 2000))],
  );
}

/** Keeps a transaction Loket cannot use, bytes as received (bytea takes any bytes). */
export async function recordPoison(db: Database, rawTxnId: Buffer, body: Buffer, reason: string): Promise<void> {
  await db.query("INSERT INTO inbox_poison (txn_id, body, reason) VALUES ($1, $2, $3)", [rawTxnId, body, storable(reason)]);
}

/**
 * Deletes transactions processed, and poison received, more than `days` ago; returns how many
 * transactions went. Deduplication only needs recent ones (Synapse retries within minutes); the
 * archive keeps its own records. Counted in SQL: no deleted row travels to Loket.
 */
export async function pruneProcessed(db: Database, days: number): Promise<number> {
  await db.query("DELETE FROM inbox_poison WHERE received_at < now() - make_interval(days => $1)", [days]);
  const [row] = await db.query<{ n: number }>(
    `WITH deleted AS (DELETE FROM inbox_transactions WHERE processed_at < now() - make_interval(days => $1) RETURNING 1)
     SELECT count(*)::int AS n FROM deleted`,
    [days],
  );
  return row?.n ?? 0;
}
