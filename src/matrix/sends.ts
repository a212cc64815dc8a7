// The record of outgoing messages (table outgoing_sends): what was sent, under which transaction
// id, and the event id the homeserver gave it.
import { createHash } from "node:crypto";
import type { Database } from "../db/database.ts";

/** The content key that carries the transaction id, so that a sent event can be found again. */
export const TXN_MARKER = "nl.loket.txn";

/** A stable transaction id for a message: the same sender, room and cause give the same id. */
export function txnIdFor(sender: string, roomId: string, cause: string): string {
  return `loket.${createHash("sha256").update(`${sender}\n${roomId}\n${cause}`).digest("base64url").slice(0, 32)}`;
}

export interface SendRecord {
  eventId: string | null;
  attempts: number;
  type: string;
  /** The ciphertext of an encrypted send (null for plain ones). */
  content: Record<string, unknown> | null;
}

export async function findSend(db: Database, txnId: string): Promise<SendRecord | undefined> {
  const [row] = await db.query<{ event_id: string | null; attempts: number; event_type: string; content: Record<string, unknown> | null }>(
    "SELECT event_id, attempts, event_type, content FROM outgoing_sends WHERE txn_id = $1", [txnId],
  );
  return row && { eventId: row.event_id, attempts: row.attempts, type: row.event_type, content: row.content };
}

/** Records an attempt before it is made (committed first: after a crash we know to look). */
export async function recordAttempt(db: Database, txnId: string, sender: string, roomId: string, type: string, ciphertext?: Record<string, unknown>): Promise<void> {
  await db.query(
    `INSERT INTO outgoing_sends (txn_id, sender, room_id, event_type, content, attempts) VALUES ($1, $2, $3, $4, $5, 1)
     ON CONFLICT (txn_id) DO UPDATE SET attempts = outgoing_sends.attempts + 1`,
    [txnId, sender, roomId, type, ciphertext === undefined ? null : JSON.stringify(ciphertext)],
  );
}

export async function recordSent(db: Database, txnId: string, eventId: string): Promise<void> {
  await db.query("UPDATE outgoing_sends SET event_id = $2, sent_at = now() WHERE txn_id = $1", [txnId, eventId]);
}
