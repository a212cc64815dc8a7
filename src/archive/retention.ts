// Retention (pure): a conversation's category, its closing date and when it is due for
// destruction. The closing date is the conversation's closure; a conversation without one
// (direct chats have none yet) closes with its last archived event.
import type { Config } from "../config/schema.ts";
import type { ArchiveCategory } from "./config.ts";

export interface ConversationRow {
  conversation: string;
  municipality: string;
  room_id: string;
  reference: string | null;
  citizen: string | null;
  category: string | null;
  department: string | null;
  opened_at: Date;
  last_at: Date;
  closed_at: Date | null;
}

export function categoryOf(config: Config, conv: Pick<ConversationRow, "municipality" | "category" | "department">): ArchiveCategory {
  const byId = (id: string | null | undefined): ArchiveCategory | undefined => config.archive.categories.find((c) => c.id === id);
  const m = config.municipalities.find((x) => x.id === conv.municipality);
  const dept = m?.departments.find((d) => d.id === conv.department)?.archive_category;
  const found = byId(conv.category) ?? byId(dept) ?? byId(config.archive.default_category);
  if (!found) throw new Error(`no archive category '${config.archive.default_category}'`);
  return found;
}

export function closingDate(conv: Pick<ConversationRow, "closed_at" | "last_at">): Date {
  return new Date(conv.closed_at ?? conv.last_at);
}

/** The closing date plus the term (calendar years, UTC); undefined for valuation B (kept). */
export function dueDate(category: ArchiveCategory, closed: Date): Date | undefined {
  if (category.valuation === "B") return undefined;
  const d = new Date(closed);
  const whole = Math.floor(category.retention_years);
  d.setUTCFullYear(d.getUTCFullYear() + whole);
  return new Date(d.getTime() + (category.retention_years - whole) * 365.25 * 86_400_000);
}

/** xsd:duration of a term: P1Y, P5Y (fractions in days). */
export function termDuration(years: number): string {
  const whole = Math.floor(years);
  const days = Math.round((years - whole) * 365.25);
  return `P${whole}Y${days > 0 ? `${days}D` : ""}`;
}

export const isoDate = (d: Date): string => d.toISOString().slice(0, 10);
