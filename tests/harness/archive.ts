// Helpers for the archive tests: raw sends as a real client, and reading the archive as stored.
import { randomBytes } from "node:crypto";
import { Method, type MatrixClient } from "matrix-js-sdk";
import type { Database } from "../../src/db/database.ts";

export async function sendRaw(client: MatrixClient, roomId: string, type: string, content: Record<string, unknown>): Promise<string> {
  const txn = randomBytes(8).toString("hex");
  const res = await client.http.authedRequest<{ event_id: string }>(
    Method.Put, `/rooms/${encodeURIComponent(roomId)}/send/${encodeURIComponent(type)}/${txn}`, undefined, content,
  );
  return res.event_id;
}

export async function setState(client: MatrixClient, roomId: string, type: string, content: Record<string, unknown>, stateKey = ""): Promise<string> {
  const res = await client.http.authedRequest<{ event_id: string }>(
    Method.Put, `/rooms/${encodeURIComponent(roomId)}/state/${encodeURIComponent(type)}/${encodeURIComponent(stateKey)}`, undefined, content,
  );
  return res.event_id;
}

export interface ArchivedRow { seq: number; event_id: string; event_type: string; sender: string; content: Record<string, unknown> }

export async function archivedIn(db: Database, roomId: string): Promise<ArchivedRow[]> {
  const rows = await db.query<{ seq: string; event_id: string; event_type: string; sender: string; content: Record<string, unknown> }>(
    "SELECT seq::text AS seq, event_id, event_type, sender, content FROM archive_records WHERE room_id = $1 ORDER BY archive_records.seq",
    [roomId],
  );
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}
