// Destruction after approval: for each listed conversation that is still due and not on hold,
// the records' content (and ciphertext) is deleted, leaving tombstones that keep each record's
// metadata, content_sha256 and hash (so the chain still verifies), and its media files are
// deleted from the blob store. One archive_destructions row records what, when, by whom,
// under which category and list.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Config } from "../config/schema.ts";
import type { Database } from "../db/database.ts";
import { deleteBlob } from "./blobs.ts";
import type { DestructionList } from "./destruction-list.ts";
import { activeHolds } from "./holds.ts";
import { categoryOf, closingDate, dueDate, type ConversationRow } from "./retention.ts";

export interface DestroyOutcome {
  destructionId: number;
  destroyed: { conversation: string; category: string; retention_years: number; closed_at: string; records: number }[];
  skipped: { conversation: string; reason: string }[];
}

/** The SHA-256 of a list file, recorded with the destruction. */
export const listChecksum = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

export async function approveDestruction(db: Database, config: Config, listSha: string, list: DestructionList, by: string, now = new Date()): Promise<DestroyOutcome> {
  const [row] = await db.query<{ id: string }>(
    "INSERT INTO archive_destructions (municipality, list_id, list_sha256, approved_by, conversations, skipped) VALUES ($1, $2, $3, $4, '[]', '[]') RETURNING id::text AS id",
    [list.municipality, list.list_id, listSha, by],
  );
  const destructionId = Number(row?.id);
  const out: DestroyOutcome = { destructionId, destroyed: [], skipped: [] };
  for (const entry of list.conversations) {
    const [conv] = await db.query<ConversationRow & { destroyed_at: Date | null }>(
      "SELECT conversation, municipality, room_id, reference, citizen, category, department, opened_at, last_at, closed_at, destroyed_at FROM archive_conversations WHERE conversation = $1",
      [entry.conversation],
    );
    const skip = (reason: string): void => { out.skipped.push({ conversation: entry.conversation, reason }); };
    if (!conv || conv.municipality !== list.municipality) { skip("not a conversation of this municipality"); continue; }
    if (conv.destroyed_at) { skip("already destroyed"); continue; }
    const category = categoryOf(config, conv);
    const due = dueDate(category, closingDate(conv));
    if (!due || due > now) { skip(due ? `not due until ${due.toISOString()}` : "valuation B: kept permanently"); continue; }
    const holds = await activeHolds(db, conv.conversation, conv.citizen);
    if (holds.length > 0) { skip(`on legal hold (${holds.map((h) => `#${h.id}: ${h.reason}`).join("; ")})`); continue; }
    const { records, blobs } = await db.transaction(async (tx) => {
      const changed = await tx.query(
        `UPDATE archive_records SET content = NULL, ciphertext = NULL, destroyed_at = now(), destruction_id = $2
         WHERE conversation = $1 AND destroyed_at IS NULL RETURNING id`,
        [conv.conversation, destructionId],
      );
      const media = await tx.query<{ sha256: string | null }>(
        `UPDATE archive_media SET status = 'destroyed' WHERE event_id IN (SELECT event_id FROM archive_records WHERE conversation = $1)
         RETURNING sha256`,
        [conv.conversation],
      );
      await tx.query("UPDATE archive_conversations SET destroyed_at = now() WHERE conversation = $1", [conv.conversation]);
      // A blob another kept record still refers to stays.
      const shas = [...new Set(media.map((m) => m.sha256).filter((s): s is string => s !== null))];
      const kept = shas.length === 0 ? [] : await tx.query<{ sha256: string }>(
        "SELECT DISTINCT sha256 FROM archive_media WHERE sha256 = ANY($1::text[]) AND status = 'stored'", [shas]);
      const keep = new Set(kept.map((k) => k.sha256));
      return { records: changed.length, blobs: shas.filter((s) => !keep.has(s)) };
    });
    for (const sha of blobs) deleteBlob(config.archive.blob_dir, sha);
    out.destroyed.push({ conversation: conv.conversation, category: category.id, retention_years: category.retention_years, closed_at: closingDate(conv).toISOString(), records });
  }
  await db.query("UPDATE archive_destructions SET conversations = $2, skipped = $3 WHERE id = $1",
    [destructionId, JSON.stringify(out.destroyed), JSON.stringify(out.skipped)]);
  return out;
}
