// Conversations and their reference numbers (tables conversations, reference_counters).
import { roomTablesChanged } from "../db/changes.ts";
import type { Database, Queryable } from "../db/database.ts";
import type { Language } from "../i18n/index.ts";
import type { RoomId } from "../matrix/ids.ts";
import { formatReference } from "./reference.ts";

export type Status = "open" | "waiting" | "closed";

export interface Conversation {
  id: number;
  municipality: string;
  reference: string;
  citizen: string;
  roomId: RoomId | null;
  dmRoomId: RoomId | null;
  status: Status;
  department: string;
  language: Language;
  assigned: string[];
  /** When the current question entered the queue (null: the citizen has not asked yet). */
  queuedAt: Date | null;
  /** The promised answer time; null once answered, while waiting for the citizen, or closed. */
  dueAt: Date | null;
  overdue: boolean;
  lastCitizenAt: Date | null;
  lastStaffAt: Date | null;
}

export interface Row {
  id: number;
  municipality: string;
  reference: string;
  citizen: string;
  room_id: string | null;
  dm_room_id: string | null;
  status: Status;
  department: string;
  language: Language;
  assigned: string;
  queued_at: Date | string | null;
  due_at: Date | string | null;
  overdue: boolean;
  last_citizen_at: Date | string | null;
  last_staff_at: Date | string | null;
}

const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

export const COLUMNS = "id::int AS id, municipality, reference, citizen, room_id, dm_room_id, status, department, language, assigned, queued_at, due_at, overdue, last_citizen_at, last_staff_at";
export type ConversationRow = Row;
export const conversationFromRow = (r: Row): Conversation => ({
  id: r.id,
  municipality: r.municipality,
  reference: r.reference,
  citizen: r.citizen,
  roomId: r.room_id as RoomId | null,
  dmRoomId: r.dm_room_id as RoomId | null,
  status: r.status,
  department: r.department,
  language: r.language,
  assigned: JSON.parse(r.assigned) as string[],
  queuedAt: date(r.queued_at),
  dueAt: date(r.due_at),
  overdue: r.overdue,
  lastCitizenAt: date(r.last_citizen_at),
  lastStaffAt: date(r.last_staff_at),
});

async function one(db: Queryable, where: string, params: unknown[]): Promise<Conversation | undefined> {
  const rows = await db.query<Row>(`SELECT ${COLUMNS} FROM conversations WHERE ${where} ORDER BY id DESC LIMIT 1`, params);
  return rows[0] && conversationFromRow(rows[0]);
}

export const openConversationOf = (db: Queryable, municipality: string, citizen: string): Promise<Conversation | undefined> =>
  one(db, "municipality = $1 AND citizen = $2 AND status <> 'closed'", [municipality, citizen]);
export const conversationByRoom = (db: Queryable, roomId: string): Promise<Conversation | undefined> =>
  one(db, "room_id = $1", [roomId]);
export const conversationById = (db: Queryable, id: number): Promise<Conversation | undefined> =>
  one(db, "id = $1", [id]);
export const conversationByReference = (db: Queryable, municipality: string, reference: string): Promise<Conversation | undefined> =>
  one(db, "municipality = $1 AND reference = $2", [municipality, reference]);

export interface NewConversation {
  municipality: string;
  prefix: string;
  citizen: string;
  roomId: RoomId | null;
  dmRoomId: RoomId | null;
  department: string;
  language: Language;
  year?: number;
}

/**
 * Records a new open conversation with the next reference number of its municipality and year,
 * in one transaction: the counter's row lock serialises concurrent callers, and a rollback
 * (for example a second open conversation for the same citizen) gives the number back, so
 * numbers have neither gaps nor duplicates. Returns undefined when the citizen already has an
 * open conversation with this municipality.
 */
export async function createConversation(db: Database, c: NewConversation): Promise<Conversation | undefined> {
  const year = c.year ?? new Date().getFullYear();
  try {
    return await db.transaction(async (tx) => {
      const [counter] = await tx.query<{ last_number: number }>(
        `INSERT INTO reference_counters (municipality, year, last_number) VALUES ($1, $2, 1)
         ON CONFLICT (municipality, year) DO UPDATE SET last_number = reference_counters.last_number + 1
         RETURNING last_number`,
        [c.municipality, year],
      );
      const reference = formatReference(c.prefix, year, counter?.last_number ?? 1);
      const [row] = await tx.query<Row>(
        `INSERT INTO conversations (municipality, reference, citizen, room_id, dm_room_id, department, language)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [c.municipality, reference, c.citizen, c.roomId, c.dmRoomId, c.department, c.language],
      );
      if (!row) throw new Error("insert returned no row");
      return conversationFromRow(row);
    });
  } catch (err) {
    if ((err as { code?: string }).code === "23505" && (err as Error).message.includes("conversations_one_open")) return undefined;
    throw err;
  } finally {
    roomTablesChanged();
  }
}

export async function updateConversation(db: Queryable, id: number, change: { roomId?: RoomId; status?: Status; language?: Language; assigned?: string[] }): Promise<void> {
  await db.query(
    `UPDATE conversations SET room_id = COALESCE($2, room_id), status = COALESCE($3, status), language = COALESCE($4, language),
       assigned = COALESCE($5, assigned), updated_at = now() WHERE id = $1`,
    [id, change.roomId ?? null, change.status ?? null, change.language ?? null, change.assigned ? JSON.stringify(change.assigned) : null],
  ).finally(roomTablesChanged);
}
