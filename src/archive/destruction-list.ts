// Destruction lists: the conversations of a municipality that are due (valuation V, term run
// out before the given date), not destroyed yet and not on hold, written as CSV and JSON.
// Nothing is deleted here.
import { randomUUID } from "node:crypto";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { once } from "node:events";
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import type { Queryable } from "../db/database.ts";
import { activeHolds } from "./holds.ts";
import { categoryOf, closingDate, dueDate, isoDate, type ConversationRow } from "./retention.ts";

export interface ListEntry {
  conversation: string;
  reference: string | null;
  room_id: string;
  category: string;
  category_name: string;
  retention_years: number;
  closed_at: string;
  due_at: string;
  records: number;
}

export interface DestructionList {
  list_id: string;
  municipality: string;
  due_before: string;
  created_at: string;
  conversations: ListEntry[];
}

export const CSV_COLUMNS = ["conversation", "reference", "room_id", "category", "category_name", "retention_years", "closed_at", "due_at", "records"] as const;

const csvCell = (v: string | number | null): string => {
  const s = v === null ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** Conversations of a municipality in batches (keyset on the conversation key). */
export async function* conversationsOf(db: Queryable, municipality: string): AsyncGenerator<ConversationRow> {
  let after = "";
  for (;;) {
    const rows = await db.query<ConversationRow>(
      `SELECT conversation, municipality, room_id, reference, citizen, category, department, opened_at, last_at, closed_at
       FROM archive_conversations WHERE municipality = $1 AND destroyed_at IS NULL AND conversation > $2 ORDER BY conversation LIMIT 500`,
      [municipality, after],
    );
    yield* rows;
    if (rows.length < 500) return;
    after = rows[rows.length - 1]?.conversation ?? after;
  }
}

export async function buildDestructionList(db: Queryable, config: Config, municipality: string, dueBefore: Date, outDir: string): Promise<{ json: string; csv: string; count: number; held: number }> {
  mkdirSync(outDir, { recursive: true });
  const listId = randomUUID();
  const base = join(outDir, `vernietigingslijst-${municipality}-${isoDate(dueBefore)}-${listId.slice(0, 8)}`);
  const csv = createWriteStream(`${base}.csv`);
  csv.write(`${CSV_COLUMNS.join(",")}\n`);
  const entries: ListEntry[] = [];
  let held = 0;
  for await (const conv of conversationsOf(db, municipality)) {
    const category = categoryOf(config, conv);
    const closed = closingDate(conv);
    const due = dueDate(category, closed);
    if (!due || due >= dueBefore) continue;
    if ((await activeHolds(db, conv.conversation, conv.citizen)).length > 0) {
      held++;
      continue;
    }
    const [count] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM archive_records WHERE conversation = $1", [conv.conversation]);
    const entry: ListEntry = {
      conversation: conv.conversation, reference: conv.reference, room_id: conv.room_id, category: category.id, category_name: category.name,
      retention_years: category.retention_years, closed_at: closed.toISOString(), due_at: due.toISOString(), records: count?.n ?? 0,
    };
    entries.push(entry);
    if (!csv.write(`${CSV_COLUMNS.map((k) => csvCell(entry[k])).join(",")}\n`)) await once(csv, "drain");
  }
  csv.end();
  await once(csv, "finish");
  const list: DestructionList = { list_id: listId, municipality, due_before: dueBefore.toISOString(), created_at: new Date().toISOString(), conversations: entries };
  const json = createWriteStream(`${base}.json`);
  json.end(`${JSON.stringify(list, null, 2)}\n`);
  await once(json, "finish");
  return { json: `${base}.json`, csv: `${base}.csv`, count: entries.length, held };
}

function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line.charAt(i);
    if (quoted && ch === '"' && line[i + 1] === '"') { cur += '"'; i++; }
    else if (ch === '"') quoted = !quoted;
    else if (ch === "," && !quoted) { out.push(cur); cur = ""; }
    else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Reads a list back: the JSON file, or the CSV (municipality and list id from its name). */
export function readDestructionList(path: string): DestructionList {
  const text = readFileSync(path, "utf8");
  if (path.endsWith(".json")) return JSON.parse(text) as DestructionList;
  const m = /vernietigingslijst-([a-z0-9-]+?)-(\d{4}-\d{2}-\d{2})-([0-9a-f]{8})\.csv$/.exec(path);
  if (!m) throw new Error("a CSV list must keep the file name Loket gave it (vernietigingslijst-<municipality>-<date>-<id>.csv)");
  const [header, ...lines] = text.split("\n").filter((l) => l !== "");
  const cols = parseCsvLine(header ?? "");
  const conversations = lines.map((l) => {
    const cells = parseCsvLine(l);
    const get = (k: string): string => cells[cols.indexOf(k)] ?? "";
    return {
      conversation: get("conversation"), reference: get("reference") || null, room_id: get("room_id"), category: get("category"),
      category_name: get("category_name"), retention_years: Number(get("retention_years")), closed_at: get("closed_at"), due_at: get("due_at"), records: Number(get("records")),
    };
  });
  return { list_id: m[3] ?? "", municipality: m[1] ?? "", due_before: m[2] ?? "", created_at: "", conversations };
}
