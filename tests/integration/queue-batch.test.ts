// The planned path of the queue (a room's run of messages planned in TypeScript and written in
// one statement, src/queue/plan.ts and batch.ts) against the careful path (one statement per
// message, src/queue/questions.ts), on real PostgreSQL: from the same rows, random runs of
// citizen questions and staff replies leave the same conversation rows, the same recorded
// decisions and the same due timers. A plan is written only if the row is still as it read it
// and none of its questions was decided before.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { migrate } from "../../src/db/migrate.ts";
import { writePlans } from "../../src/queue/batch.ts";
import { planMessages, type PlainMessage, type QueueState } from "../../src/queue/plan.ts";
import { decideQuestion, staffReplied } from "../../src/queue/questions.ts";
import { createTestDatabase, DEFAULT_SERVER_URL, postgresServerUrl, type TestDatabase } from "../harness/postgres.ts";
import { seededRandom as random } from "../harness/random.ts";

const at = new Date("2026-11-30T10:00:00.000Z");
const newDue = new Date("2026-11-30T14:00:00.000Z");
const QUIET_MS = 8 * 3_600_000;
const hoursAgo = (h: number): Date => new Date(at.getTime() - h * 3_600_000);

let pg: TestDatabase;
let db: Database;

beforeAll(async () => {
  pg = await createTestDatabase(postgresServerUrl() ?? DEFAULT_SERVER_URL);
  db = await openDatabase({ url: pg.url, dataDir: "", poolSize: 2 });
  await migrate(db);
});
afterAll(async () => {
  await db.close();
  await pg.drop();
});

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

/** Starting rows as the queue leaves them: new, asked long or lately ago, answered, waiting, overdue. */
function randomState(r: () => number): QueueState & { overdue: boolean; timer: "none" | "pending" | "fired" } {
  const queuedAt = pick(r, [null, hoursAgo(30)]);
  const lastCitizenAt = queuedAt ? pick(r, [null, hoursAgo(20), hoursAgo(2)]) : null;
  const lastStaffAt = queuedAt ? pick(r, [null, hoursAgo(25), hoursAgo(1)]) : null;
  const dueAt = queuedAt ? pick(r, [null, hoursAgo(3), new Date(at.getTime() + 3_600_000)]) : null;
  return {
    status: queuedAt ? pick(r, ["open", "open", "waiting"]) : "open",
    assigned: pick(r, ["[]", JSON.stringify(["@jansen:loket.test"])]),
    queuedAt, dueAt, lastCitizenAt, lastStaffAt,
    overdue: dueAt !== null && r() < 0.3,
    timer: dueAt === null ? "none" : pick(r, ["pending", "fired"] as const),
  };
}

function randomRun(r: () => number, n: number): PlainMessage[] {
  const staff = pick(r, ["@jansen:loket.test", "@devries:loket.test"]);
  return Array.from({ length: n }, (_, i): PlainMessage => (r() < 0.55
    ? { kind: "citizen", eventId: `$q-${n}-${i}-${Math.floor(r() * 1e9)}`, reopened: i === 0 && r() < 0.15 }
    : { kind: "staff", eventId: `$s-${n}-${i}-${Math.floor(r() * 1e9)}`, staff }));
}

let citizens = 0;
async function conversationWith(s: ReturnType<typeof randomState>): Promise<number> {
  const n = ++citizens;
  const [row] = await db.query<{ id: number }>(
    `INSERT INTO conversations (municipality, reference, citizen, room_id, status, department, language, assigned, queued_at, due_at, overdue, last_citizen_at, last_staff_at)
     VALUES ('test', $1, $2, $3, $4, 'bz', 'nl', $5, $6, $7, $8, $9, $10) RETURNING id::int AS id`,
    [`TEST-${n}`, `@burger${n}:loket.test`, `!kamer${n}:loket.test`, s.status, s.assigned, s.queuedAt?.toISOString() ?? null,
      s.dueAt?.toISOString() ?? null, s.overdue, s.lastCitizenAt?.toISOString() ?? null, s.lastStaffAt?.toISOString() ?? null],
  );
  if (!row) throw new Error("no conversation");
  if (s.timer !== "none" && s.dueAt) {
    await db.query("INSERT INTO timers (kind, key, due_at, payload, fired_at) VALUES ('queue.due', $1, $2, '{}', $3)",
      [String(row.id), s.dueAt.toISOString(), s.timer === "fired" ? s.dueAt.toISOString() : null]);
  }
  return row.id;
}

/** What the two paths must agree on: the row, the decisions (by position) and the due timer. */
async function outcome(id: number): Promise<unknown> {
  const [row] = await db.query("SELECT status, assigned, queued_at, due_at, overdue, last_citizen_at, last_staff_at FROM conversations WHERE id = $1", [id]);
  const questions = await db.query("SELECT at, due_at, answer, reopened FROM queue_questions WHERE conversation = $1 ORDER BY event_id", [id]);
  const timers = await db.query("SELECT due_at, fired_at IS NOT NULL AS fired FROM timers WHERE kind = 'queue.due' AND key = $1", [String(id)]);
  return { row, questions: questions.length, answers: questions.map((q) => q), timers };
}

/** The careful path, one statement per message; event ids are made unique to the conversation. */
async function careful(id: number, run: readonly PlainMessage[]): Promise<unknown[]> {
  const decisions: unknown[] = [];
  for (const msg of run) {
    if (msg.kind === "staff") {
      await staffReplied(db, id, msg.staff, at);
      continue;
    }
    const q = await decideQuestion(db, { conversation: id, eventId: `${msg.eventId}:a`, at, reopened: msg.reopened, newDue, quietPeriodMs: QUIET_MS });
    if (!q) throw new Error("no decision");
    decisions.push({ answer: q.answer, due: q.due, entered: q.entered, assigned: q.assigned });
  }
  return decisions;
}

describe("the planned path of the queue", () => {
  it("leaves the same rows, decisions and timers as the careful path, for 300 random runs", async () => {
    const r = random(20261130);
    for (let k = 0; k < 300; k++) {
      const start = randomState(r);
      const run = randomRun(r, 1 + Math.floor(r() * 5));
      const a = await conversationWith(start);
      const b = await conversationWith(start);
      const expected = await careful(a, run);

      const plan = planMessages(start, run.map((m) => (m.kind === "citizen" ? { ...m, eventId: `${m.eventId}:a` } : m)), { at, newDue, quietPeriodMs: QUIET_MS });
      const renamed = { ...plan, questions: plan.questions.map((q) => ({ ...q, eventId: q.eventId.replace(/:a$/, ":b") })) };
      const written = await writePlans(db, [{ conversation: b, before: start, plan: renamed }]);
      expect(written, `run ${k}`).toEqual(new Set([b]));
      const planned = plan.questions.map((q) => ({
        answer: q.first || q.again, due: q.due, entered: q.first || q.statusBefore === "waiting", assigned: q.assignedBefore,
      }));
      expect(planned, `run ${k}: ${JSON.stringify({ start, run })}`).toEqual(expected);
      expect(await outcome(b), `run ${k}: ${JSON.stringify({ start, run })}`).toEqual(await outcome(a));
    }
  });

  it("writes a plan only while the row is as the plan read it", async () => {
    const start: QueueState & { overdue: boolean; timer: "none" } = {
      status: "open", assigned: "[]", queuedAt: hoursAgo(30), dueAt: null, lastCitizenAt: hoursAgo(20), lastStaffAt: hoursAgo(19), overdue: false, timer: "none",
    };
    const id = await conversationWith(start);
    const other = await conversationWith(start);
    // Another process answered in the meantime: the plan read a row that is no longer there.
    await staffReplied(db, id, "@devries:loket.test", hoursAgo(1));
    const run: PlainMessage[] = [{ kind: "citizen", eventId: "$stale", reopened: false }];
    const before = await outcome(id);
    const plan = planMessages(start, run, { at, newDue, quietPeriodMs: QUIET_MS });
    const otherPlan = planMessages(start, [{ kind: "citizen", eventId: "$fresh", reopened: false }], { at, newDue, quietPeriodMs: QUIET_MS });
    // In one statement with a plan that still holds: only that one is written.
    expect(await writePlans(db, [{ conversation: id, before: start, plan }, { conversation: other, before: start, plan: otherPlan }])).toEqual(new Set([other]));
    expect(await outcome(id)).toEqual(before);
    expect(await db.query("SELECT event_id FROM queue_questions WHERE event_id IN ('$stale', '$fresh')")).toEqual([{ event_id: "$fresh" }]);
  });

  it("does not write a plan whose question was decided before (a replay)", async () => {
    const start: QueueState & { overdue: boolean; timer: "none" } = {
      status: "open", assigned: "[]", queuedAt: null, dueAt: null, lastCitizenAt: null, lastStaffAt: null, overdue: false, timer: "none",
    };
    const id = await conversationWith(start);
    const run: PlainMessage[] = [{ kind: "citizen", eventId: "$replayed", reopened: false }];
    const plan = planMessages(start, run, { at, newDue, quietPeriodMs: QUIET_MS });
    // The question was decided and recorded, and the row put back as it was (as if read before).
    await decideQuestion(db, { conversation: id, eventId: "$replayed", at, reopened: false, newDue, quietPeriodMs: QUIET_MS });
    await db.query("UPDATE conversations SET queued_at = NULL, due_at = NULL, last_citizen_at = NULL WHERE id = $1", [id]);
    expect(await writePlans(db, [{ conversation: id, before: start, plan }])).toEqual(new Set());
    expect(await db.query("SELECT count(*)::int AS n FROM queue_questions WHERE event_id = '$replayed'")).toEqual([{ n: 1 }]);
  });
  it("never waits for a row another transaction holds: the statement fails at once (55P03)", async () => {
    const start: QueueState & { overdue: boolean; timer: "none" } = {
      status: "open", assigned: "[]", queuedAt: null, dueAt: null, lastCitizenAt: null, lastStaffAt: null, overdue: false, timer: "none",
    };
    const id = await conversationWith(start);
    const plan = planMessages(start, [{ kind: "citizen", eventId: "$bezet", reopened: false }], { at, newDue, quietPeriodMs: QUIET_MS });
    await db.transaction(async (tx) => {
      await tx.query("SELECT id FROM conversations WHERE id = $1 FOR UPDATE", [id]);
      await expect(writePlans(db, [{ conversation: id, before: start, plan }])).rejects.toMatchObject({ code: "55P03" });
    });
    expect(await writePlans(db, [{ conversation: id, before: start, plan }])).toEqual(new Set([id]));
  });
});
