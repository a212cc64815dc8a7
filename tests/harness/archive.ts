// Helpers for the archive tests: raw sends as a real client, and reading the archive as stored.
import { randomBytes } from "node:crypto";
import { Direction, Method, type MatrixClient } from "matrix-js-sdk";
import { expect } from "vitest";
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

export interface TimelineEvent { event_id: string; type: string; sender: string; state_key?: string; content: Record<string, unknown> }

/** Every event of a room as Synapse has it, oldest first. */
export async function roomTimeline(client: MatrixClient, roomId: string): Promise<TimelineEvent[]> {
  const events: TimelineEvent[] = [];
  let from: string | null = null;
  for (;;) {
    const res = await client.createMessagesRequest(roomId, from, 500, Direction.Forward);
    events.push(...(res.chunk as unknown as TimelineEvent[]));
    if (!res.end || res.chunk.length === 0) return events;
    from = res.end;
  }
}

/**
 * The events of a DM the bot read back after joining it (once, in these tests): those before its
 * join that Synapse did not send Loket (not sent by the bot, no membership of the bot's).
 */
export function readBackOf(timeline: readonly TimelineEvent[], bot: string): Set<string> {
  const join = timeline.findIndex((e) => e.type === "m.room.member" && e.state_key === bot && e.content.membership === "join");
  if (join < 0) throw new Error("the bot never joined this room");
  return new Set(timeline.slice(0, join).filter((e) => e.sender !== bot && !(e.type === "m.room.member" && e.state_key === bot)).map((e) => e.event_id));
}

/**
 * Holds a DM's archive to its timeline: every event once; the events Synapse sent Loket in the
 * room's order, and the ones the bot read back after joining (archived once it had joined) in
 * theirs.
 */
export function expectArchiveOfDm(archived: readonly string[], timeline: readonly TimelineEvent[], bot: string): void {
  const readBack = readBackOf(timeline, bot);
  const ids = timeline.map((e) => e.event_id);
  expect(new Set(archived).size).toBe(archived.length);
  expect([...archived].sort()).toEqual([...ids].sort());
  expect(archived.filter((id) => !readBack.has(id))).toEqual(ids.filter((id) => !readBack.has(id)));
  expect(archived.filter((id) => readBack.has(id))).toEqual(ids.filter((id) => readBack.has(id)));
}
