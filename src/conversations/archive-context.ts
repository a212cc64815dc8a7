// What the archive needs to know of the rooms this capability manages: conversation rooms (with
// their reference, department, citizen and closure) and the municipality's own rooms (space,
// service desk, departments). Plugged in front of the archive's direct-chat resolver.
import type { ArchiveContext } from "../archive/context.ts";
import type { Database } from "../db/database.ts";

export function conversationContext(db: Database): ArchiveContext {
  return {
    async roomContext(roomId) {
      const [c] = await db.query<{ municipality: string; reference: string; department: string; citizen: string; status: string; updated_at: Date | string }>(
        "SELECT municipality, reference, department, citizen, status, updated_at FROM conversations WHERE room_id = $1 ORDER BY id DESC LIMIT 1",
        [roomId],
      );
      if (!c) return undefined;
      return {
        municipality: c.municipality, reference: c.reference, department: c.department, citizen: c.citizen,
        ...(c.status === "closed" ? { closedAt: new Date(c.updated_at) } : {}),
      };
    },
  };
}

export function managedRoomContext(db: Database): ArchiveContext {
  return {
    async roomContext(roomId) {
      const [r] = await db.query<{ municipality: string; department: string | null }>(
        "SELECT municipality, department FROM managed_rooms WHERE room_id = $1", [roomId],
      );
      return r ? { municipality: r.municipality, ...(r.department ? { department: r.department } : {}) } : undefined;
    },
  };
}
