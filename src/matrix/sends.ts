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
}

export async function findSend(db: Database, txnId: string): Promise<SendRecord | undefined> {
  const [row] = await db.query<{ event_id: string | null; attempts: number }>(
    "SELECT event_id, attempts FROM outgoing_sends WHERE txn_id = $1", [txnId],
  );
  return row && { eventId: row.event_id, attempts: row.attempts };
}

/** Records an attempt before it is made (committed first: after a crash we know to look). */
export async function recordAttempt(db: Database, txnId: string, sender: string, roomId: string, type: string): Promise<void> {
  await db.query(
    `INSERT INTO outgoing_sends (txn_id, sender, room_id, event_type, attempts) VALUES ($1, $2, $3, $4, 1)
     ON CONFLICT (txn_id) DO UPDATE SET attempts = outgoing_sends.attempts + 1`,
    [txnId, sender, roomId, type],
  );
}

export async function recordSent(db: Database, txnId: string, eventId: string): Promise<void> {
  await db.query("UPDATE outgoing_sends SET event_id = $2, sent_at = now() WHERE txn_id = $1", [txnId, eventId]);
}
