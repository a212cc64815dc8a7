// Assignment with two Loket processes on one PostgreSQL database: each plans under the
// municipality's advisory lock, so racing planners assign every conversation once and keep the
// per-person maximum across the departments a staff member serves; staff no longer in the
// config are not assigned, even when their duty row says on.
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.ts";
import type { Conversations } from "../../src/conversations/service.ts";
import { conversationById, createConversation } from "../../src/conversations/store.ts";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createMetrics } from "../../src/http/metrics.ts";
import type { Homeserver } from "../../src/matrix/client.ts";
import { ServiceDesk } from "../../src/queue/service.ts";
import { setDuty } from "../../src/queue/store.ts";
import { Scheduler } from "../../src/scheduler/scheduler.ts";
import { Municipalities } from "../../src/tenants/municipalities.ts";
import { createTestDatabase, DEFAULT_SERVER_URL, postgresServerUrl, type TestDatabase } from "../harness/postgres.ts";

const log = pino({ level: "silent" });
const now = new Date("2026-11-30T09:00:00Z");
const clock = { now: (): Date => now };
const [jansen, devries, gone] = ["@jansen:loket.test", "@devries:loket.test", "@vertrokken:loket.test"];
const { config } = parseConfig({
  appservice: { as_token: "a".repeat(32), hs_token: "h".repeat(32) },
  conversations: { max_open_per_staff: 2 },
  municipalities: [{
    id: "test", name: "Gemeente Testdorp", bot_localpart: "gemeente_testdorp",
    departments: [{ id: "bz", name: "Burgerzaken", staff: [jansen, devries] }, { id: "vg", name: "Vergunningen", staff: [jansen] }],
  }],
});
const municipalities = new Municipalities(config);
const m = municipalities.all[0];

let pg: TestDatabase;
const dbs: Database[] = [];

beforeAll(async () => {
  pg = await createTestDatabase(postgresServerUrl() ?? DEFAULT_SERVER_URL);
  for (let i = 0; i < 2; i++) dbs.push(await openDatabase({ url: pg.url, dataDir: "", poolSize: 4 }));
  await migrate(dbs[0] as Database);
});
afterAll(async () => {
  for (const db of dbs) await db.close();
  await pg.drop();
});

/** A desk as one process has it; Matrix is not needed to plan and record assignments. */
const desk = (db: Database): ServiceDesk => new ServiceDesk({
  config, db, metrics: createMetrics(), log, clock, municipalities,
  hs: undefined as unknown as Homeserver, conversations: undefined as unknown as Conversations,
  scheduler: new Scheduler(db, clock, log),
});

describe("assignment across two processes", () => {
  it("assigns each conversation once, earliest due first, within the maximum per person across departments", async () => {
    if (!m) throw new Error("no municipality");
    const [a, b] = dbs as [Database, Database];
    for (let i = 0; i < 10; i++) {
      const department = i % 2 === 0 ? "bz" : "vg";
      const conv = await createConversation(a, { municipality: "test", prefix: "TEST", citizen: `@c${i}:loket.test`, roomId: null, dmRoomId: null, department, language: "nl" });
      if (!conv) throw new Error("no conversation");
      // Asked, with a due time: in the queue.
      await a.query("UPDATE conversations SET queued_at = $2, last_citizen_at = $2, due_at = $3 WHERE id = $1",
        [conv.id, now.toISOString(), new Date(now.getTime() + (10 - i) * 60_000).toISOString()]);
    }
    for (const [user, department] of [[jansen, "bz"], [jansen, "vg"], [devries, "bz"], [gone, "bz"]] as const) await setDuty(a, "test", department, user, true, now);

    const [one, two] = [desk(a), desk(b)];
    const made = (await Promise.all([one.assignAll(m), two.assignAll(m), one.assignAll(m), two.assignAll(m)])).flat();

    // Two each, at most, over both departments; nobody who left the config; each conversation once.
    expect(made).toHaveLength(4);
    expect(new Set(made.map((x) => x.conversation)).size).toBe(4);
    const rows = await a.query<{ citizen: string; department: string; assigned: string }>("SELECT citizen, department, assigned FROM conversations ORDER BY due_at");
    const perPerson = new Map<string, number>();
    for (const r of rows) for (const u of JSON.parse(r.assigned) as string[]) perPerson.set(u, (perPerson.get(u) ?? 0) + 1);
    expect(Object.fromEntries(perPerson)).toEqual({ [jansen]: 2, [devries]: 2 });
    // Burgerzaken's earliest two go to whoever is free there first; the rest of each queue waits.
    const assigned = rows.filter((r) => r.assigned !== "[]").map((r) => r.citizen);
    expect(assigned).toContain("@c8:loket.test");
    const timers = await a.query<{ n: number }>("SELECT count(*)::int AS n FROM timers WHERE kind = 'queue.assign'");
    expect(timers[0]?.n).toBe(4);
  });
});

/** No retries: a failure fails the event. */
const once = { isTransient: () => false, signal: new AbortController().signal, firstDelayMs: 1, maxDelayMs: 1 };

/** A desk whose bot only records what it sends: what the queue decides and records is the real thing. */
function recordingDesk(db: Database): { service: ServiceDesk; sent: { roomId: string; body: string; cause: string }[] } {
  const sent: { roomId: string; body: string; cause: string }[] = [];
  const intent = {
    sendMessage: (roomId: string, content: { body: string }, cause: string) => { sent.push({ roomId, body: content.body, cause }); return Promise.resolve("$sent"); },
    sendState: () => Promise.resolve("$state"),
    getDisplayName: () => Promise.resolve(undefined),
  };
  const service = new ServiceDesk({
    config, db, metrics: createMetrics(), log, clock, municipalities,
    hs: { intent: () => intent } as unknown as Homeserver, conversations: undefined as unknown as Conversations,
    scheduler: new Scheduler(db, clock, log),
  });
  return { service, sent };
}

describe("a question processed again", () => {
  it("gets the same answer, with the same cause, and changes the queue once", async () => {
    if (!m) throw new Error("no municipality");
    const [a] = dbs as [Database];
    const { service, sent } = recordingDesk(a);
    const created = await createConversation(a, { municipality: "test", prefix: "TEST", citizen: "@herhaling:loket.test", roomId: "!herhaling:loket.test" as never, dmRoomId: null, department: "vg", language: "nl" });
    if (!created) throw new Error("no conversation");
    // The first run, then a retry of the same event that reads the conversation as it is now.
    const question = [{ kind: "citizen" as const, eventId: "$vraag", reopened: false }];
    // The first run takes the planned path (one statement for the run of messages).
    expect(await service.wrote(m, created, question, once)).toEqual(new Map());
    const after = await conversationById(a, created.id);
    if (!after) throw new Error("no conversation");
    // The retry finds the question decided, and reads the decision back (the careful path).
    expect(await service.wrote(m, after, question, once)).toEqual(new Map());
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual(sent[0]);
    expect(sent[0]?.cause).toBe("promise:$vraag");
    expect(sent[0]?.body).toMatch(/^Bedankt voor uw bericht\. U bent nummer \d+ in de wachtrij\. U krijgt uiterlijk dinsdag 1 december 10:00 antwoord\./);
    const rows = await a.query<{ n: number }>("SELECT count(*)::int AS n FROM queue_questions WHERE event_id = '$vraag'");
    expect(rows[0]?.n).toBe(1);
    expect((await conversationById(a, created.id))?.dueAt).toEqual(after.dueAt);
  });

  it("does not record again a staff reply that came before a decided question (its new term stays)", async () => {
    if (!m) throw new Error("no municipality");
    const [a] = dbs as [Database];
    const { service } = recordingDesk(a);
    const created = await createConversation(a, { municipality: "test", prefix: "TEST", citizen: "@antwoord:loket.test", roomId: "!antwoord:loket.test" as never, dmRoomId: null, department: "vg", language: "nl" });
    if (!created) throw new Error("no conversation");
    const run = [{ kind: "staff" as const, eventId: "$antwoord", staff: jansen }, { kind: "citizen" as const, eventId: "$vervolgvraag", reopened: false }];
    expect(await service.wrote(m, created, run, once)).toEqual(new Map());
    const after = await conversationById(a, created.id);
    expect(after?.dueAt).not.toBeNull();
    // The batch runs again (a restart): the question is decided, so this is the careful path.
    expect(await service.wrote(m, after ?? created, run, once)).toEqual(new Map());
    expect((await conversationById(a, created.id))?.dueAt).toEqual(after?.dueAt);
    const timers = await a.query<{ n: number }>("SELECT count(*)::int AS n FROM timers WHERE kind = 'queue.due' AND key = $1 AND fired_at IS NULL", [String(created.id)]);
    expect(timers[0]?.n).toBe(1);
  });
});
