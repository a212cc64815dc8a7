// The seam through which the archive learns which municipality (and conversation) a room
// belongs to. Today it knows the bots' direct chats (table direct_rooms); managed rooms and
// conversations with reference numbers plug in by putting their resolver in front (see
// `chainContexts`), without the archive knowing their tables.
import type { Database } from "../db/database.ts";
import type { Municipalities } from "../tenants/municipalities.ts";

export interface RoomContext {
  /** Municipality id: whose chain the room's events join. */
  municipality: string;
  /** The conversation's reference number; missing: the room id is the conversation's key. */
  reference?: string;
  /** Archive category id (config archive.categories), when the conversation has one. */
  category?: string;
  /** Department id, whose archive_category is the default. */
  department?: string;
  /** The citizen of the conversation (for holds and GDPR requests). */
  citizen?: string;
  /** When the conversation was closed (the retention term counts from it). */
  closedAt?: Date;
}

export interface ArchiveContext {
  /** The room's context, or undefined when the room is none of a municipality's (not archived). */
  roomContext(roomId: string): Promise<RoomContext | undefined>;
  /** Forget what is cached of a room (a bot acted in it: it may have just become a municipality's). */
  forget?(roomId: string): void;
}

/** The first context that knows the room wins (managed rooms first, then direct chats). */
export function chainContexts(...contexts: ArchiveContext[]): ArchiveContext {
  return {
    async roomContext(roomId) {
      for (const c of contexts) {
        const found = await c.roomContext(roomId);
        if (found) return found;
      }
      return undefined;
    },
  };
}

/** Direct chats between a citizen and a municipality's bot (or the appservice user). */
export function directRoomContext(db: Database, municipalities: Municipalities): ArchiveContext {
  return {
    async roomContext(roomId) {
      // Rooms the bot has left still count, so that its own leave (and what led to it) is kept.
      const rows = await db.query<{ bot: string; citizen: string }>(
        "SELECT bot, citizen FROM direct_rooms WHERE room_id = $1 ORDER BY (left_at IS NULL) DESC, joined_at DESC LIMIT 1",
        [roomId],
      );
      const row = rows[0];
      if (!row) return undefined;
      const m = row.bot === municipalities.senderUserId ? municipalities.defaultMunicipality : municipalities.byBotUserId(row.bot);
      return m ? { municipality: m.id, citizen: row.citizen } : undefined;
    },
  };
}

/**
 * Remembers each room's answer for a few seconds (one query per room, not per event), also "not
 * a municipality's room", which is most of what a busy homeserver sends. A room becomes a
 * municipality's only through a bot (it joins a DM, or creates the room), so the archive forgets
 * a room's answer whenever a bot acts in it or is invited to it.
 */
export function cachedContext(inner: ArchiveContext, ttlMs = 5_000, max = 10_000): ArchiveContext {
  const cache = new Map<string, { at: number; ctx: RoomContext | undefined }>();
  return {
    async roomContext(roomId) {
      const hit = cache.get(roomId);
      if (hit && Date.now() - hit.at < ttlMs) return hit.ctx;
      const ctx = await inner.roomContext(roomId);
      cache.delete(roomId);
      if (cache.size >= max) cache.delete(cache.keys().next().value ?? "");
      cache.set(roomId, { at: Date.now(), ctx });
      return ctx;
    },
    forget(roomId) {
      cache.delete(roomId);
    },
  };
}
