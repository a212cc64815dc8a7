// The inbox tables (migration 0001): transactions are stored before they are acknowledged.
import { createHash } from "node:crypto";
import type { Database } from "../db/database.ts";
import { decodeTransaction, type DecodedTransaction, type RawEvent } from "../matrix/events.ts";

export interface StoredTransaction {
  seq: number;
  events: RawEvent[];
}

export interface StoreResult extends StoredTransaction {
  /** False when this transaction (same id, same events) was stored before. */
  isNew: boolean;
  /** False when it was stored before and has been processed completely. */
  pending: boolean;
}

/**
 * Stores a transaction. It is a duplicate when a transaction with the same id and the same
 * events was stored before: Synapse retries with the same events (ephemeral data dropped),
 * while a homeserver whose counter was reset sends new events under an old id, which must not
 * be lost. A duplicate still reports whether it is pending: a store that committed although
 * its answer failed is followed by Synapse's retry, which must not leave it waiting.
 */
export async function storeTransaction(db: Database, txnId: string, body: string, txn: DecodedTransaction): Promise<StoreResult> {
  const digest = createHash("sha256").update(txn.events.map((e) => e.event_id).join("\n")).digest("hex");
  const [inserted] = await db.query<{ seq: string }>(
    `INSERT INTO inbox_transactions (txn_id, events_sha256, event_count, body) VALUES ($1, $2, $3, $4)
     ON CONFLICT (txn_id, events_sha256) DO NOTHING RETURNING seq::text AS seq`,
    [txnId, digest, txn.events.length, body],
  );
  if (inserted) return { seq: Number(inserted.seq), events: txn.events, isNew: true, pending: true };
  const [existing] = await db.query<{ seq: string; pending: boolean }>(
    "SELECT seq::text AS seq, processed_at IS NULL AS pending FROM inbox_transactions WHERE txn_id = $1 AND events_sha256 = $2",
    [txnId, digest],
  );
  if (!existing) throw new Error(`transaction ${txnId} conflicted but cannot be found`);
  return { seq: Number(existing.seq), events: txn.events, isNew: false, pending: existing.pending };
}

/** Transactions stored but not completely processed before the last stop, oldest first. */
export async function pendingTransactions(db: Database): Promise<StoredTransaction[]> {
  const rows = await db.query<{ seq: string; body: string }>(
    "SELECT seq::text AS seq, body FROM inbox_transactions WHERE processed_at IS NULL ORDER BY seq",
  );
  return rows.map((r) => {
    const txn = decodeTransaction(JSON.parse(r.body));
    return { seq: Number(r.seq), events: typeof txn === "string" ? [] : txn.events };
  });
}

export async function markProcessed(db: Database, seqs: number[]): Promise<void> {
  if (seqs.length === 0) return;
  await db.query("UPDATE inbox_transactions SET processed_at = now() WHERE seq = ANY($1::bigint[])", [seqs]);
}

export async function recordFailure(db: Database, txnSeq: number, event: RawEvent, failure: string): Promise<void> {
  await db.query(
    "INSERT INTO inbox_failures (txn_seq, event_id, room_id, failure) VALUES ($1, $2, $3, $4)",
    [txnSeq, event.event_id, event.room_id, failure.slice(0, 2000)],
  );
}

/**
 * Deletes transactions processed more than `days` ago. Deduplication only needs recent ones
 * (Synapse retries within minutes); the archive keeps its own records.
 */
export async function pruneProcessed(db: Database, days: number): Promise<number> {
  const rows = await db.query(
    "DELETE FROM inbox_transactions WHERE processed_at < now() - make_interval(days => $1) RETURNING seq",
    [days],
  );
  return rows.length;
}
