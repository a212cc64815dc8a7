// The queue's rows: a conversation's place in its department's queue and its promised answer
// time (columns of conversations), and who is on duty (staff_duty). Assignment happens under a
// per-department advisory lock, so two Loket processes on one database never assign one
// conversation twice.
import { roomTablesChanged } from "../db/changes.ts";
import type { Database, Queryable } from "../db/database.ts";
import { COLUMNS, conversationFromRow as fromRow, type Conversation, type Row } from "../conversations/store.ts";

export interface Question {
  eventId: string;
  at: Date;
  /** The promise the answer states. */
  due: Date | null;
  /** Whether the question gets an answer (first, reopened, or after the quiet period). */
  answer: boolean;
  reopened: boolean;
}

export async function questionOf(db: Queryable, eventId: string): Promise<Question | undefined> {
  const rows = await db.query<{ at: Date | string; due_at: Date | string | null; answer: boolean; reopened: boolean }>(
    "SELECT at, due_at, answer, reopened FROM queue_questions WHERE event_id = $1", [eventId],
  );
  const r = rows[0];
  return r && { eventId, at: new Date(r.at), due: r.due_at === null ? null : new Date(r.due_at), answer: r.answer, reopened: r.reopened };
}

export async function setStatus(db: Queryable, id: number, status: "waiting" | "closed"): Promise<void> {
  await db.query("UPDATE conversations SET status = $2, due_at = NULL, overdue = false, updated_at = now() WHERE id = $1", [id, status]).finally(roomTablesChanged);
}

export async function setOverdue(db: Queryable, id: number, due: Date): Promise<boolean> {
  const rows = await db.query(
    "UPDATE conversations SET overdue = true WHERE id = $1 AND status = 'open' AND due_at = $2 AND NOT overdue RETURNING id",
    [id, due.toISOString()],
  ).finally(roomTablesChanged);
  return rows.length > 0;
}

/** Hands a conversation to a person (assigned = [user]) or to a department (unassigned there). */
export async function handOver(db: Queryable, id: number, to: { staff: string } | { department: string }): Promise<void> {
  if ("staff" in to) await db.query("UPDATE conversations SET assigned = $2, updated_at = now() WHERE id = $1", [id, JSON.stringify([to.staff])]).finally(roomTablesChanged);
  else await db.query("UPDATE conversations SET department = $2, assigned = '[]', updated_at = now() WHERE id = $1", [id, to.department]).finally(roomTablesChanged);
}

/** The department's queue: open conversations with a question and nobody assigned, earliest due first. */
export async function queueOf(db: Queryable, municipality: string, department: string): Promise<Conversation[]> {
  const rows = await db.query<Row>(
    `SELECT ${COLUMNS} FROM conversations WHERE municipality = $1 AND department = $2 AND status = 'open'
       AND queued_at IS NOT NULL AND assigned = '[]' ORDER BY due_at NULLS LAST, id`,
    [municipality, department],
  );
  return rows.map(fromRow);
}

/** Open (or waiting) conversations assigned to each of these users. */
export async function openLoads(db: Queryable, municipality: string, users: readonly string[]): Promise<Map<string, number>> {
  const loads = new Map(users.map((u) => [u, 0]));
  if (users.length === 0) return loads;
  const rows = await db.query<{ assigned: string }>(
    "SELECT assigned FROM conversations WHERE municipality = $1 AND status <> 'closed' AND assigned <> '[]'",
    [municipality],
  );
  for (const r of rows) {
    for (const u of JSON.parse(r.assigned) as string[]) if (loads.has(u)) loads.set(u, (loads.get(u) ?? 0) + 1);
  }
  return loads;
}

export interface Duty {
  userId: string;
  lastAssigned: Date | null;
}

export async function setDuty(db: Queryable, municipality: string, department: string, user: string, on: boolean, at: Date): Promise<void> {
  await db.query(
    `INSERT INTO staff_duty (municipality, department, user_id, on_duty, changed_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (municipality, department, user_id) DO UPDATE SET on_duty = EXCLUDED.on_duty, changed_at = EXCLUDED.changed_at`,
    [municipality, department, user, on, at.toISOString()],
  );
}

export async function onDuty(db: Queryable, municipality: string, department: string): Promise<Duty[]> {
  const rows = await db.query<{ user_id: string; last_assigned_at: Date | string | null }>(
    "SELECT user_id, last_assigned_at FROM staff_duty WHERE municipality = $1 AND department = $2 AND on_duty ORDER BY user_id",
    [municipality, department],
  );
  return rows.map((r) => ({ userId: r.user_id, lastAssigned: r.last_assigned_at === null ? null : new Date(r.last_assigned_at) }));
}

/**
 * Runs fn holding the municipality's assignment lock (a transaction-scoped advisory lock), so
 * that one process at a time plans and records assignments for it. Per municipality, not per
 * department: a staff member's load counts across the departments they serve.
 */
export function withAssignmentLock<T>(db: Database, municipality: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`loket.queue:${municipality}`]);
    return fn(tx);
  }).finally(roomTablesChanged); // after the commit: what rooms' conversations say is read again
}

/** Records an assignment if the conversation is still open and unassigned; false otherwise. */
export async function assignOnce(tx: Queryable, id: number, municipality: string, department: string, staff: string, at: Date): Promise<boolean> {
  const rows = await tx.query(
    "UPDATE conversations SET assigned = $2, updated_at = now() WHERE id = $1 AND status = 'open' AND assigned = '[]' RETURNING id",
    [id, JSON.stringify([staff])],
  );
  if (rows.length === 0) return false;
  await tx.query(
    "UPDATE staff_duty SET last_assigned_at = $4 WHERE municipality = $1 AND department = $2 AND user_id = $3",
    [municipality, department, staff, at.toISOString()],
  );
  return true;
}

export async function staffRoom(db: Queryable, bot: string, user: string): Promise<string | undefined> {
  const rows = await db.query<{ room_id: string }>("SELECT room_id FROM staff_rooms WHERE bot = $1 AND user_id = $2", [bot, user]);
  return rows[0]?.room_id;
}

export async function saveStaffRoom(db: Queryable, bot: string, user: string, roomId: string): Promise<void> {
  await db.query("INSERT INTO staff_rooms (bot, user_id, room_id) VALUES ($1, $2, $3) ON CONFLICT (bot, user_id) DO NOTHING", [bot, user, roomId]);
}
