// Data-subject requests (AVG art. 15 and 17). Export: everything the archive holds on a person,
// per conversation (JSON, HTML, media, MDTO) plus a summary. Erase: the person's conversations
// whose retention has run out (and are not on hold) are destroyed as a destruction would;
// the rest is kept under the Archiefwet (AVG art. 17(3)(b) and (d)) and reported with the date.
import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import type { Database, Queryable } from "../db/database.ts";
import { approveDestruction } from "./destroy.ts";
import { exportConversation } from "./export.ts";
import { activeHolds } from "./holds.ts";
import { categoryOf, closingDate, dueDate, type ConversationRow } from "./retention.ts";

/** The person's conversations: those they are the citizen of, and those they wrote in. */
async function conversationsOfPerson(db: Queryable, user: string): Promise<(ConversationRow & { destroyed_at: Date | null })[]> {
  return db.query(
    `SELECT conversation, municipality, room_id, reference, citizen, category, department, opened_at, last_at, closed_at, destroyed_at
     FROM archive_conversations c WHERE citizen = $1 OR EXISTS (SELECT 1 FROM archive_records r WHERE r.conversation = c.conversation AND r.sender = $1)
     ORDER BY opened_at`, [user]);
}

export async function gdprExport(db: Queryable, config: Config, user: string, outDir: string): Promise<{ summary: string; conversations: number }> {
  mkdirSync(outDir, { recursive: true });
  const convs = await conversationsOfPerson(db, user);
  const summary = [];
  for (const conv of convs) {
    const dir = await exportConversation(db, config, conv, join(outDir, "gesprekken"));
    const [n] = await db.query<{ all: number; own: number }>(
      "SELECT count(*)::int AS all, count(*) FILTER (WHERE sender = $2)::int AS own FROM archive_records WHERE conversation = $1", [conv.conversation, user]);
    summary.push({ conversation: conv.conversation, reference: conv.reference, room_id: conv.room_id, municipality: conv.municipality,
      category: categoryOf(config, conv).id, opened_at: conv.opened_at, last_at: conv.last_at, records: n?.all ?? 0, records_by_person: n?.own ?? 0,
      destroyed: conv.destroyed_at !== null, folder: dir });
  }
  const file = join(outDir, "overzicht.json");
  writeFileSync(file, `${JSON.stringify({ user, generated_at: new Date().toISOString(), conversations: summary }, null, 2)}\n`);
  return { summary: file, conversations: convs.length };
}

export interface ErasureLine { conversation: string; outcome: "erased" | "kept" | "already destroyed"; reason: string; kept_until?: string }

export async function gdprErase(db: Database, config: Config, user: string, by: string, now = new Date()): Promise<ErasureLine[]> {
  const lines: ErasureLine[] = [];
  const byMunicipality = new Map<string, ConversationRow[]>();
  for (const conv of await conversationsOfPerson(db, user)) {
    if (conv.destroyed_at) { lines.push({ conversation: conv.conversation, outcome: "already destroyed", reason: "destroyed earlier" }); continue; }
    const category = categoryOf(config, conv);
    const due = dueDate(category, closingDate(conv));
    const holds = await activeHolds(db, conv.conversation, conv.citizen);
    if (!due) lines.push({ conversation: conv.conversation, outcome: "kept", reason: `Archiefwet: category '${category.id}' is valued B (kept permanently); AVG art. 17(3)(d)` });
    else if (due > now) lines.push({ conversation: conv.conversation, outcome: "kept", kept_until: due.toISOString(), reason: `Archiefwet: category '${category.id}' is kept ${category.retention_years} years after closing, until ${due.toISOString().slice(0, 10)}; AVG art. 17(3)(b)` });
    else if (holds.length > 0) lines.push({ conversation: conv.conversation, outcome: "kept", reason: `legal hold ${holds.map((h) => `#${h.id} (${h.reason})`).join(", ")}` });
    else byMunicipality.set(conv.municipality, [...(byMunicipality.get(conv.municipality) ?? []), conv]);
  }
  for (const [municipality, convs] of byMunicipality) {
    const list = { list_id: `gdpr-${randomUUID()}`, municipality, due_before: now.toISOString(), created_at: now.toISOString(),
      conversations: convs.map((c) => ({ conversation: c.conversation, reference: c.reference, room_id: c.room_id, category: "", category_name: "", retention_years: 0, closed_at: "", due_at: "", records: 0 })) };
    const out = await approveDestruction(db, config, `gdpr-erasure-request ${user}`, list, by, now);
    for (const d of out.destroyed) lines.push({ conversation: d.conversation, outcome: "erased", reason: `retention ended; content destroyed (destruction #${out.destructionId})` });
    for (const s of out.skipped) lines.push({ conversation: s.conversation, outcome: "kept", reason: s.reason });
  }
  return lines;
}
