// Writing planned runs of messages (plan.ts), as a group commit: the plans of the rooms that
// finish their batches within one turn of the event loop (and while a write is under way) are
// written in one statement. Each plan is written only if its conversation's row is still as the
// plan read it and none of its questions is decided yet (a replay); a plan that is not written
// is reported, and its messages take the careful path (questions.ts) one by one.
//
// Its commit does not wait for the disk, as the careful path's does not (see questions.ts).
import type { Database } from "../db/database.ts";
import type { QueuePlan, QueueState } from "./plan.ts";

export interface PlannedWrite {
  conversation: number;
  before: QueueState;
  plan: QueuePlan;
}

const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

// The row's times are compared at millisecond precision: the plan read them through JavaScript.
const WRITE = `
WITH async AS (SELECT set_config('synchronous_commit', 'off', true) AS v),
p AS (
  SELECT * FROM json_to_recordset($1::json) AS p(id bigint, status text, assigned text, queued_at timestamptz, due_at timestamptz,
    last_citizen_at timestamptz, last_staff_at timestamptz, n_status text, n_assigned text, n_queued_at timestamptz,
    n_due_at timestamptz, n_last_citizen_at timestamptz, n_last_staff_at timestamptz, clear_overdue boolean, timer text)),
q AS (
  SELECT * FROM json_to_recordset($2::json) AS q(event_id text, conversation bigint, at timestamptz, due_at timestamptz, answer boolean, reopened boolean)),
-- Conversations with a question decided before (a replay): one probe of the primary key per question.
replay AS (SELECT conversation FROM queue_questions WHERE event_id = ANY($3::text[])),
-- The rows are locked first, without waiting: a plan never waits for a lock (so it is never part
-- of a deadlock, with an assignment say); when a row is busy, the statement fails (55P03) and
-- every plan of it takes the careful path.
busy AS MATERIALIZED (SELECT id FROM conversations WHERE id IN (SELECT id FROM p) FOR UPDATE NOWAIT),
c AS (
  UPDATE conversations SET status = p.n_status, assigned = p.n_assigned, queued_at = p.n_queued_at, due_at = p.n_due_at,
    last_citizen_at = p.n_last_citizen_at, last_staff_at = p.n_last_staff_at,
    overdue = CASE WHEN p.clear_overdue THEN false ELSE conversations.overdue END, updated_at = now()
  FROM p
  WHERE conversations.id = p.id AND (SELECT v FROM async) = 'off' AND conversations.id IN (SELECT id FROM busy)
    AND conversations.status = p.status AND conversations.assigned = p.assigned
    AND date_trunc('milliseconds', conversations.queued_at) IS NOT DISTINCT FROM p.queued_at
    AND date_trunc('milliseconds', conversations.due_at) IS NOT DISTINCT FROM p.due_at
    AND date_trunc('milliseconds', conversations.last_citizen_at) IS NOT DISTINCT FROM p.last_citizen_at
    AND date_trunc('milliseconds', conversations.last_staff_at) IS NOT DISTINCT FROM p.last_staff_at
    AND p.id NOT IN (SELECT conversation FROM replay)
  RETURNING conversations.id),
qs AS (
  INSERT INTO queue_questions (event_id, conversation, at, due_at, answer, reopened)
  SELECT q.event_id, q.conversation, q.at, q.due_at, q.answer, q.reopened FROM q WHERE q.conversation IN (SELECT id FROM c)),
ts AS (
  INSERT INTO timers (kind, key, due_at, payload)
  SELECT 'queue.due', p.id::text, p.n_due_at, '{}' FROM p WHERE p.timer = 'set' AND p.id IN (SELECT id FROM c)
  ON CONFLICT (kind, key) DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload, fired_at = NULL, claimed_until = NULL),
te AS (
  DELETE FROM timers WHERE kind = 'queue.due'
    AND key = ANY(ARRAY(SELECT p.id::text FROM p WHERE p.timer IN ('end', 'drop') AND p.id IN (SELECT id FROM c)))
    AND (fired_at IS NULL OR key = ANY(ARRAY(SELECT p.id::text FROM p WHERE p.timer = 'drop'))))
SELECT id::int AS id FROM c`;

/** Writes the plans in one statement; returns the conversations whose plan was written. */
export async function writePlans(db: Database, writes: readonly PlannedWrite[]): Promise<Set<number>> {
  if (writes.length === 0) return new Set();
  const plans = writes.map(({ conversation, before, plan }) => ({
    id: conversation, status: before.status, assigned: before.assigned, queued_at: iso(before.queuedAt), due_at: iso(before.dueAt),
    last_citizen_at: iso(before.lastCitizenAt), last_staff_at: iso(before.lastStaffAt),
    n_status: plan.after.status, n_assigned: plan.after.assigned, n_queued_at: iso(plan.after.queuedAt), n_due_at: iso(plan.after.dueAt),
    n_last_citizen_at: iso(plan.after.lastCitizenAt), n_last_staff_at: iso(plan.after.lastStaffAt), clear_overdue: plan.clearOverdue, timer: plan.timer,
  }));
  const questions = writes.flatMap(({ conversation, plan }) => plan.questions.map((q) => ({
    event_id: q.eventId, conversation, at: q.at.toISOString(), due_at: iso(q.due), answer: q.first || q.again, reopened: q.reopened,
  })));
  const rows = await db.query<{ id: number }>(WRITE, [JSON.stringify(plans), JSON.stringify(questions), questions.map((q) => q.event_id)]);
  return new Set(rows.map((r) => r.id));
}

interface Waiting { write: PlannedWrite; resolve(written: boolean): void; reject(err: unknown): void }

/** At most this many plans in one statement. */
const MAX_PLANS = 500;

/** Group commit of plans: those that arrive within one turn, or while a write runs, go together. */
export class PlanWriter {
  private readonly db: Database;
  private queue: Waiting[] = [];
  private running = false;

  constructor(db: Database) {
    this.db = db;
  }

  /** Resolves true once the plan is written, false when it was not (take the careful path). */
  write(w: PlannedWrite): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write: w, resolve, reject });
      if (this.running) return;
      this.running = true;
      setImmediate(() => { void this.drain(); });
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_PLANS);
        // One conversation twice in a statement would be judged against one row: the later waits.
        const seen = new Set<number>();
        const now: Waiting[] = [];
        const later: Waiting[] = [];
        for (const w of batch) {
          (seen.has(w.write.conversation) ? later : now).push(w);
          seen.add(w.write.conversation);
        }
        this.queue = [...later, ...this.queue];
        try {
          const written = await writePlans(this.db, now.map((w) => w.write));
          for (const w of now) w.resolve(written.has(w.write.conversation));
        } catch (err) {
          // Every room's messages then take the careful path, where each fails or passes on its own.
          for (const w of now) w.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
