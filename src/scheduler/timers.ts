// The timers table: schedule, cancel, claim what is due (with a lease), mark as fired.
import type { Database, Queryable } from "../db/database.ts";

export interface Timer {
  id: number;
  kind: string;
  key: string;
  dueAt: Date;
  payload: Record<string, unknown>;
}

interface Row {
  id: string;
  kind: string;
  key: string;
  due_at: Date | string;
  payload: Record<string, unknown>;
}

const toTimer = (r: Row): Timer => ({ id: Number(r.id), kind: r.kind, key: r.key, dueAt: new Date(r.due_at), payload: r.payload });

/** Sets the timer for (kind, key) to dueAt; a timer that already fired is armed again. */
export async function setTimer(db: Queryable, kind: string, key: string, dueAt: Date, payload: Record<string, unknown> = {}): Promise<void> {
  await db.query(
    `INSERT INTO timers (kind, key, due_at, payload) VALUES ($1, $2, $3, $4)
     ON CONFLICT (kind, key) DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload, fired_at = NULL, claimed_until = NULL`,
    [kind, key, dueAt.toISOString(), JSON.stringify(payload)],
  );
}

export async function cancelTimer(db: Queryable, kind: string, key: string): Promise<void> {
  await db.query("DELETE FROM timers WHERE kind = $1 AND key = $2 AND fired_at IS NULL", [kind, key]);
}

/**
 * Claims up to `limit` timers due at `now` that nobody holds, for `leaseMs`. Rows another
 * process is claiming at the same moment are skipped, never taken twice.
 */
export async function claimDue(db: Database, now: Date, leaseMs: number, limit = 10): Promise<Timer[]> {
  // A timer whose lease ran out (its handler failed, or its process died) is ordered by the end
  // of that lease, so that timers failing again and again cannot hold back newer ones.
  const rows = await db.query<Row>(
    `UPDATE timers SET claimed_until = $2 WHERE id IN (
       SELECT id FROM timers
       WHERE fired_at IS NULL AND due_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1)
       ORDER BY COALESCE(claimed_until, due_at) LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING id::text AS id, kind, key, due_at, payload`,
    [now.toISOString(), new Date(now.getTime() + leaseMs).toISOString(), limit],
  );
  return rows.map(toTimer).sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
}

/** Marks a claimed timer as fired, unless it was moved meanwhile (then it stays armed). */
export async function markFired(db: Database, timer: Timer, now: Date): Promise<void> {
  await db.query("UPDATE timers SET fired_at = $2, claimed_until = NULL WHERE id = $1 AND due_at = $3", [timer.id, now.toISOString(), timer.dueAt.toISOString()]);
}

/** Gives a claim back (the handler failed for a passing reason): it is due again at once. */
export async function release(db: Database, timer: Timer): Promise<void> {
  await db.query("UPDATE timers SET claimed_until = NULL WHERE id = $1", [timer.id]);
}

/** The earliest moment a timer is due, or undefined when none is armed. */
export async function nextDue(db: Database): Promise<Date | undefined> {
  const [row] = await db.query<{ due: Date | string | null }>("SELECT min(due_at) AS due FROM timers WHERE fired_at IS NULL");
  return row?.due == null ? undefined : new Date(row.due);
}
