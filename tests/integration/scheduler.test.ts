// Timers as rows, on both backends: due timers run once, also with two schedulers on one
// database; moving a timer re-arms it; a failing handler runs again after its lease; the clock
// is the test's.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { migrate } from "../../src/db/migrate.ts";
import { Scheduler, type Clock } from "../../src/scheduler/scheduler.ts";
import { cancelTimer, setTimer } from "../../src/scheduler/timers.ts";
import { createTestDatabase, DEFAULT_SERVER_URL, postgresServerUrl, type TestDatabase } from "../harness/postgres.ts";

const log = pino({ level: "silent" });
const at = (iso: string): Date => new Date(iso);

class TestClock implements Clock {
  t = at("2026-03-02T09:00:00Z");
  now(): Date {
    return this.t;
  }
}

describe.each(["postgres", "pglite"] as const)("timers on %s", (kind) => {
  let db: Database;
  let pgDb: TestDatabase | undefined;
  let dir: string;
  const clock = new TestClock();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "loket-timers-"));
    if (kind === "postgres") pgDb = await createTestDatabase(postgresServerUrl() ?? DEFAULT_SERVER_URL);
    db = await openDatabase({ url: pgDb?.url ?? "", dataDir: join(dir, "pglite"), poolSize: 4 });
    await migrate(db);
  });
  beforeEach(async () => {
    await db.query("DELETE FROM timers");
    clock.t = at("2026-03-02T09:00:00Z");
  });
  afterAll(async () => {
    await db.close();
    await pgDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs a timer when it is due, once, and not before", async () => {
    const ran: string[] = [];
    const s = new Scheduler(db, clock, log);
    s.on("term", (t) => { ran.push(t.key); return Promise.resolve(); });
    await setTimer(db, "term", "UTR-2026-000001", at("2026-03-02T13:00:00Z"));
    await setTimer(db, "term", "UTR-2026-000002", at("2026-03-02T12:00:00Z"));
    expect(await s.tick()).toBe(0);
    clock.t = at("2026-03-02T13:00:00Z");
    expect(await s.tick()).toBe(2);
    expect(ran).toEqual(["UTR-2026-000002", "UTR-2026-000001"]);
    expect(await s.tick()).toBe(0);
  });

  it("moving or cancelling a timer changes what runs", async () => {
    const ran: string[] = [];
    const s = new Scheduler(db, clock, log);
    s.on("term", (t) => { ran.push(`${t.key}@${t.dueAt.toISOString()}`); return Promise.resolve(); });
    await setTimer(db, "term", "a", at("2026-03-02T10:00:00Z"));
    await setTimer(db, "term", "a", at("2026-03-02T11:00:00Z"));
    await setTimer(db, "term", "b", at("2026-03-02T10:00:00Z"));
    await cancelTimer(db, "term", "b");
    clock.t = at("2026-03-02T10:30:00Z");
    expect(await s.tick()).toBe(0);
    clock.t = at("2026-03-02T11:00:00Z");
    expect(await s.tick()).toBe(1);
    expect(ran).toEqual(["a@2026-03-02T11:00:00.000Z"]);
  });

  it("two schedulers on one database run each timer once", async () => {
    const ran: string[] = [];
    const handler = (name: string) => (t: { key: string }): Promise<void> => { ran.push(`${name}:${t.key}`); return Promise.resolve(); };
    const one = new Scheduler(db, clock, log);
    const two = new Scheduler(db, clock, log);
    one.on("term", handler("one"));
    two.on("term", handler("two"));
    for (let i = 0; i < 50; i++) await setTimer(db, "term", `k${i}`, at("2026-03-02T09:00:00Z"));
    const counts = await Promise.all([one.tick(), two.tick(), one.tick(), two.tick()]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(50);
    expect(new Set(ran.map((r) => r.split(":")[1])).size).toBe(50);
    expect(ran).toHaveLength(50);
  });

  it("a lasting failure ends the timer; timers that keep failing do not hold back newer ones", async () => {
    const ran: string[] = [];
    const s = new Scheduler(db, clock, log, { leaseMs: 60_000, isTransient: (err) => !String(err).includes("M_FORBIDDEN") });
    s.on("term", (t) => {
      if (t.key.startsWith("refused")) return Promise.reject(new Error("M_FORBIDDEN"));
      if (t.key.startsWith("flaky")) return Promise.reject(new Error("homeserver down"));
      ran.push(t.key);
      return Promise.resolve();
    });
    await setTimer(db, "term", "refused", at("2026-03-02T08:00:00Z"));
    for (let i = 0; i < 12; i++) await setTimer(db, "term", `flaky${i}`, at("2026-03-02T08:30:00Z"));
    expect(await s.tick()).toBe(0);
    const [refused] = await db.query<{ fired: boolean }>("SELECT fired_at IS NOT NULL AS fired FROM timers WHERE key = 'refused'");
    expect(refused?.fired).toBe(true);
    // The flaky ones' leases ran out; a newer timer is due too: it runs in the first batch.
    clock.t = at("2026-03-02T09:02:00Z");
    await setTimer(db, "term", "new", at("2026-03-02T09:01:30Z"));
    await s.tick();
    expect(ran).toEqual(["new"]);
  });

  it("a handler that fails (or a process that dies) frees the timer when its lease ends", async () => {
    let attempts = 0;
    const s = new Scheduler(db, clock, log, { leaseMs: 60_000 });
    s.on("term", () => (++attempts === 1 ? Promise.reject(new Error("homeserver down")) : Promise.resolve()));
    await setTimer(db, "term", "x", at("2026-03-02T09:00:00Z"));
    expect(await s.tick()).toBe(0);
    expect(await s.tick()).toBe(0); // still leased
    clock.t = at("2026-03-02T09:01:01Z");
    expect(await s.tick()).toBe(1);
    expect(attempts).toBe(2);
  });
});
