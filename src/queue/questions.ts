// A citizen's question, decided and recorded in one statement (one round trip, no wait for the
// disk): the conversation's row is read as it is now (locked), the rules of issue 8 are applied
// in SQL (first question, or after the quiet period with no staff reply in between; a new term
// when the clock stood still or the old promise has passed), and the conversation, its due
// timer and the decision (queue_questions) are written together. A question already decided
// (the event processed again) changes nothing and is read back instead.
//
// Its commit does not wait for the disk (SET LOCAL synchronous_commit = off), as the archive's
// write does: the inbox transaction that carries the question is on disk already, and its
// processed mark comes later in the log, so a crash that loses the decision loses the mark
// too and the question is decided again.
import type { Queryable } from "../db/database.ts";
import { questionOf, type Question } from "./store.ts";

export interface QuestionInput {
  conversation: number;
  eventId: string;
  at: Date;
  reopened: boolean;
  /** The due time a new term would have (computed from the schedule for `at`). */
  newDue: Date;
  quietPeriodMs: number;
}

export interface Decided extends Question {
  /** Decided now (false: read back, decided before). */
  fresh: boolean;
  /** The question put the conversation (back) in the queue: first, reopened, or after waiting. */
  entered: boolean;
  /** Who had the conversation when the question came (after a reopening: nobody). */
  assigned: string[];
  /** The status before the question (read back: unknown, ""). */
  statusBefore: string;
}

const DECIDE = `
WITH async AS (SELECT set_config('synchronous_commit', 'off', true) AS v),
old AS (
  SELECT id, queued_at, due_at, last_citizen_at, last_staff_at, status, assigned FROM conversations
  WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM queue_questions WHERE event_id = $2) FOR UPDATE),
d AS (
  SELECT old.*, (old.queued_at IS NULL OR $4::boolean) AS first,
    (old.queued_at IS NOT NULL AND NOT $4::boolean AND old.last_citizen_at IS NOT NULL AND old.last_citizen_at <= $6::timestamptz
      AND (old.last_staff_at IS NULL OR old.last_staff_at < old.last_citizen_at)) AS again
  FROM old),
n AS (
  SELECT d.*, CASE WHEN d.first OR d.due_at IS NULL OR (d.again AND d.due_at < $3::timestamptz) THEN $5::timestamptz END AS new_due FROM d),
c AS (
  UPDATE conversations SET status = 'open', last_citizen_at = $3::timestamptz,
    queued_at = CASE WHEN n.first THEN $3::timestamptz ELSE conversations.queued_at END,
    due_at = COALESCE(n.new_due, conversations.due_at),
    overdue = CASE WHEN n.new_due IS NULL THEN conversations.overdue ELSE false END,
    assigned = CASE WHEN $4::boolean THEN '[]' ELSE conversations.assigned END, updated_at = now()
  FROM n WHERE conversations.id = n.id),
t AS (
  INSERT INTO timers (kind, key, due_at, payload) SELECT 'queue.due', $7, n.new_due, '{}' FROM n WHERE n.new_due IS NOT NULL
  ON CONFLICT (kind, key) DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload, fired_at = NULL, claimed_until = NULL),
q AS (
  INSERT INTO queue_questions (event_id, conversation, at, due_at, answer, reopened)
  SELECT $2, $1, $3::timestamptz, COALESCE(n.new_due, n.due_at), n.first OR n.again, $4::boolean FROM n)
SELECT n.first, n.again, COALESCE(n.new_due, n.due_at) AS due, n.status, n.assigned, (SELECT v FROM async) AS v FROM n`;

interface Row { first: boolean; again: boolean; due: Date | string | null; status: string; assigned: string }

/** Decides and records the question; undefined when the conversation does not exist. */
export async function decideQuestion(db: Queryable, i: QuestionInput): Promise<Decided | undefined> {
  const [row] = await db.query<Row>(DECIDE, [
    i.conversation, i.eventId, i.at.toISOString(), i.reopened, i.newDue.toISOString(),
    new Date(i.at.getTime() - i.quietPeriodMs).toISOString(), String(i.conversation),
  ]);
  if (row) {
    return {
      eventId: i.eventId, at: i.at, due: row.due === null ? null : new Date(row.due), answer: row.first || row.again, reopened: i.reopened,
      fresh: true, entered: row.first || row.status === "waiting", assigned: i.reopened ? [] : (JSON.parse(row.assigned) as string[]), statusBefore: row.status,
    };
  }
  const known = await questionOf(db, i.eventId);
  if (!known) return undefined;
  const [now] = await db.query<{ assigned: string }>("SELECT assigned FROM conversations WHERE id = $1", [i.conversation]);
  const assigned = JSON.parse(now?.assigned ?? "[]") as string[];
  return { ...known, fresh: false, entered: assigned.length === 0, assigned, statusBefore: "" };
}

/** Staff answered: the promise is kept, its timer ended, and an unassigned conversation is theirs. */
export async function staffReplied(db: Queryable, conversation: number, staff: string, at: Date): Promise<void> {
  await db.query(
    `WITH async AS (SELECT set_config('synchronous_commit', 'off', true) AS v),
     c AS (UPDATE conversations SET last_staff_at = $2, due_at = NULL, overdue = false,
       assigned = CASE WHEN assigned = '[]' THEN $3 ELSE assigned END, updated_at = now() WHERE id = $1),
     t AS (DELETE FROM timers WHERE kind = 'queue.due' AND key = $4 AND fired_at IS NULL)
     SELECT v FROM async`,
    [conversation, at.toISOString(), JSON.stringify([staff]), String(conversation)],
  );
}

/** Which of these questions (event ids) are decided already. */
export async function decidedAmong(db: Queryable, eventIds: readonly string[]): Promise<Set<string>> {
  const rows = await db.query<{ event_id: string }>("SELECT event_id FROM queue_questions WHERE event_id = ANY($1::text[])", [eventIds]);
  return new Set(rows.map((r) => r.event_id));
}
