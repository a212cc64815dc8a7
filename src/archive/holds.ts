// Legal holds (a Woo request, a dispute): on a conversation or on a citizen; while one is active
// nothing of it is destroyed.
import type { Queryable } from "../db/database.ts";

export interface Hold { id: number; conversation: string | null; citizen: string | null; reason: string }

export async function placeHold(db: Queryable, h: { municipality: string; conversation?: string; citizen?: string; reason: string; by: string }): Promise<number> {
  const [row] = await db.query<{ id: string }>(
    "INSERT INTO archive_holds (municipality, conversation, citizen, reason, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id::text AS id",
    [h.municipality, h.conversation ?? null, h.citizen ?? null, h.reason, h.by],
  );
  return Number(row?.id);
}

/** Releases a hold; false when there is no active hold with that id. */
export async function releaseHold(db: Queryable, id: number, by: string): Promise<boolean> {
  const rows = await db.query("UPDATE archive_holds SET released_at = now(), released_by = $2 WHERE id = $1 AND released_at IS NULL RETURNING id", [id, by]);
  return rows.length > 0;
}

/** The active holds on a conversation or its citizen. */
export async function activeHolds(db: Queryable, conversation: string, citizen: string | null): Promise<Hold[]> {
  const rows = await db.query<{ id: string; conversation: string | null; citizen: string | null; reason: string }>(
    "SELECT id::text AS id, conversation, citizen, reason FROM archive_holds WHERE released_at IS NULL AND (conversation = $1 OR citizen = $2)",
    [conversation, citizen],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}
