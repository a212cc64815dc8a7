// The direct chats the bots are in (table direct_rooms), and the rule that keeps them direct.
import { roomTablesChanged } from "../db/changes.ts";
import type { Database } from "../db/database.ts";

/**
 * A direct chat has the citizen and the bot in it and nobody else, and is not public. The same
 * rule applies to the invite (with the join rule from the invite's stripped state and the
 * members the bot sees after joining) and to every later change in the room.
 */
export function breaksDirectChat(change: { joinRule?: string; newMember?: string }, room: { bot: string; citizen: string }): string | undefined {
  if (change.joinRule === "public") return "the room was made public";
  if (change.newMember !== undefined && change.newMember !== room.bot && change.newMember !== room.citizen) return "someone else joined or was invited";
  return undefined;
}

export interface DirectRoom {
  bot: string;
  citizen: string;
}

export async function rememberDirectRoom(db: Database, roomId: string, bot: string, citizen: string): Promise<void> {
  await db.query(
    `INSERT INTO direct_rooms (room_id, bot, citizen) VALUES ($1, $2, $3)
     ON CONFLICT (room_id, bot) DO UPDATE SET citizen = EXCLUDED.citizen, left_at = NULL`,
    [roomId, bot, citizen],
  ).finally(roomTablesChanged);
}

/** The bots' direct chats in this room that they have not left. */
export async function directRoomsIn(db: Database, roomId: string): Promise<DirectRoom[]> {
  return db.query<DirectRoom>("SELECT bot, citizen FROM direct_rooms WHERE room_id = $1 AND left_at IS NULL", [roomId]);
}

export async function forgetDirectRoom(db: Database, roomId: string, bot: string): Promise<void> {
  await db.query("UPDATE direct_rooms SET left_at = now() WHERE room_id = $1 AND bot = $2", [roomId, bot]).finally(roomTablesChanged);
}
