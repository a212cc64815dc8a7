// The inbox store on both backends (real PostgreSQL and PGlite): the same SQL, the same results.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { DatabaseTooNewError, loadMigrations, migrate } from "../../src/db/migrate.ts";
import { createMetrics } from "../../src/http/metrics.ts";
import { Inbox } from "../../src/inbox/inbox.ts";
import { pruneProcessed, storeTransaction } from "../../src/inbox/store.ts";
import type { RawEvent } from "../../src/matrix/events.ts";
import { isScanned, readTransactionBody } from "../../src/matrix/transaction-body.ts";
import { Interrupted } from "../../src/util/retry.ts";
import { createTestDatabase, DEFAULT_SERVER_URL, postgresServerUrl, type TestDatabase } from "../harness/postgres.ts";

const ev = (id: string, room: string): RawEvent => ({ event_id: id, room_id: room, type: "m.room.message", sender: "@b:hs", content: { msgtype: "m.text", body: id } });
const log = pino({ level: "silent" });
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const ids = (events: readonly RawEvent[]): string[] => events.map((e) => e.event_id);

/** Processes whatever earlier tests left pending, so that each test sees only its own. */
async function settle(db: Database): Promise<void> {
  const inbox = new Inbox(db, () => Promise.resolve([]), createMetrics(), log);
  await inbox.recover();
  await inbox.drain();
}

describe.each(["postgres", "pglite"] as const)("inbox on %s", (kind) => {
  let db: Database;
  let pgDb: TestDatabase | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "loket-store-"));
    if (kind === "postgres") pgDb = await createTestDatabase(postgresServerUrl() ?? DEFAULT_SERVER_URL);
    db = await openDatabase({ url: pgDb?.url ?? "", dataDir: join(dir, "pglite"), poolSize: 2 });
    expect(await migrate(db)).toEqual(loadMigrations().map((m) => m.version));
  });
  afterAll(async () => {
    await db.close();
    await pgDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("migrating again applies nothing, and a newer database is refused", async () => {
    expect(await migrate(db)).toEqual([]);
    await db.query("UPDATE schema_version SET version = version + 1");
    await expect(migrate(db)).rejects.toBeInstanceOf(DatabaseTooNewError);
    await db.query("UPDATE schema_version SET version = version - 1");
  });

  it("a failing migration leaves no trace: its changes and the version bump roll back together", async () => {
    const good = loadMigrations();
    const broken = [...good, { version: good.length + 1, name: "broken", sql: "CREATE TABLE half_done (x int); SELECT no_such_function();" }];
    await expect(migrate(db, broken)).rejects.toThrow();
    const [row] = await db.query<{ version: number }>("SELECT version FROM schema_version");
    expect(row?.version).toBe(good.length);
    const tables = await db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'");
    expect(tables).toEqual([]);
  });

  it("stores a transaction once; a retry with the same events is a duplicate; a reused id with new events is not", async () => {
    const body = { events: [ev("$a1", "!r1:hs"), ev("$a2", "!r1:hs")] };
    const first = await storeTransaction(db, "1", json(body), ids(body.events));
    expect(first).toMatchObject({ isNew: true, pending: true });
    const retry = await storeTransaction(db, "1", json({ ...body, ephemeral: [] }), ids(body.events));
    expect(retry).toMatchObject({ isNew: false, pending: true, seq: first.seq });
    const reset = { events: [ev("$b1", "!r1:hs")] };
    expect(await storeTransaction(db, "1", json(reset), ids(reset.events))).toMatchObject({ isNew: true });
    const [count] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM inbox_transactions WHERE txn_id = '1'");
    expect(count?.n).toBe(2);
  });

  it("resumes unprocessed transactions in order at start-up, each room in order", async () => {
    await settle(db);
    for (const [id, events] of [["r1", [ev("$r1", "!r3:hs"), ev("$r2", "!r4:hs")]], ["r2", [ev("$r3", "!r3:hs")]]] as const) {
      await storeTransaction(db, id, json({ events }), ids(events));
    }
    const seen: string[] = [];
    const inbox = new Inbox(db, (e) => { seen.push(e.event_id); return Promise.resolve([]); }, createMetrics(), log);
    expect(await inbox.recover()).toBe(2);
    await inbox.drain();
    // Oldest first, and each room in its order ($r1 before $r3 in !r3); rooms run side by side,
    // so where !r4's $r2 falls between them depends on when the event loop's slices end.
    expect(seen[0]).toBe("$r1");
    expect(seen.filter((id) => id !== "$r2")).toEqual(["$r1", "$r3"]);
    expect([...seen].sort()).toEqual(["$r1", "$r2", "$r3"]);
    // Everything is recorded as processed: nothing is resumed a second time.
    const again = new Inbox(db, () => Promise.reject(new Error("must not run")), createMetrics(), log);
    expect(await again.recover()).toBe(0);
  });

  it("a body parsed while it is stored is removed again when it is not a transaction; a good one is processed", async () => {
    await settle(db);
    const seen: string[] = [];
    const inbox = new Inbox(db, (e) => { seen.push(e.event_id); return Promise.resolve([]); }, createMetrics(), log);
    const receive = async (id: string, raw: string) => {
      const verdict = readTransactionBody(Buffer.from(raw));
      if (verdict.kind !== "transaction" || !isScanned(verdict.content)) throw new Error("expected a body left to parse while it is stored");
      return inbox.receive(id, verdict.body, verdict.content);
    };
    expect(await receive("x1", '{"events":[{"event_id":"$x1"}], oops')).toMatchObject({ errcode: "M_NOT_JSON" });
    expect(await receive("x2", '{"events":[{"event_id":"$x2","room_id":"!x:hs"}]}')).toMatchObject({ errcode: "M_BAD_JSON" });
    // Not a transaction, and an id the database refuses (a NUL): still not a transaction, not poison.
    expect(await receive("\u0000", '{"events":[{"event_id":"$x0"}], oops')).toMatchObject({ errcode: "M_NOT_JSON" });
    expect(await receive("x3", JSON.stringify({ events: [ev("$x3", "!x:hs")] }))).toBe("stored");
    await inbox.drain();
    expect(seen).toEqual(["$x3"]);
    const rows = await db.query<{ txn_id: string; done: boolean }>("SELECT txn_id, processed_at IS NOT NULL AS done FROM inbox_transactions WHERE txn_id LIKE 'x%'");
    expect(rows).toEqual([{ txn_id: "x3", done: true }]);
  });

  it("a stored body that is not a transaction (left by a crash before its removal) is recorded as poison at start-up", async () => {
    await settle(db);
    const broken = Buffer.from('{"events":[{"event_id":"$u1"}], oops');
    await storeTransaction(db, "u1", broken, ["$u1"]);
    await storeTransaction(db, "u2", json({ events: [ev("$u2", "!u:hs")] }), ["$u2"]);
    const seen: string[] = [];
    const metrics = createMetrics();
    const inbox = new Inbox(db, (e) => { seen.push(e.event_id); return Promise.resolve([]); }, metrics, log);
    expect(await inbox.recover()).toBe(2);
    await inbox.drain();
    expect(seen).toEqual(["$u2"]);
    const [poison] = await db.query<{ txn_id: Uint8Array; body: Uint8Array; reason: string }>("SELECT txn_id, body, reason FROM inbox_poison WHERE reason LIKE 'not_a_transaction%'");
    expect(Buffer.from(poison?.txn_id ?? []).toString()).toBe("u1");
    expect(Buffer.from(poison?.body ?? []).equals(broken)).toBe(true);
    expect(await metrics.registry.getSingleMetricAsString("loket_poison_transactions_total")).toContain('reason="not_a_transaction"} 1');
    expect(await db.query("SELECT 1 FROM inbox_transactions WHERE txn_id = 'u1'")).toEqual([]);
    const again = new Inbox(db, () => Promise.reject(new Error("must not run")), createMetrics(), log);
    expect(await again.recover()).toBe(0);
  });

  it("a transaction interrupted by shutdown stays pending and is resumed", async () => {
    await settle(db);
    const txn = { events: [ev("$i1", "!r5:hs")], extra: {} };
    const stopping = new Inbox(db, () => Promise.reject(new Interrupted()), createMetrics(), log);
    expect(await stopping.receive("i1", json(txn), txn)).toBe("stored");
    await stopping.drain();
    const seen: string[] = [];
    const next = new Inbox(db, (e) => { seen.push(e.event_id); return Promise.resolve([]); }, createMetrics(), log);
    expect(await next.recover()).toBe(1);
    await next.drain();
    expect(seen).toEqual(["$i1"]);
  });

  it("a retried transaction that was stored but never scheduled is processed, once", async () => {
    await settle(db);
    const txn = { events: [ev("$s1", "!r6:hs")], extra: {} };
    // Stored by an attempt whose answer never reached Synapse.
    await storeTransaction(db, "s1", json(txn), ids(txn.events));
    const seen: string[] = [];
    const inbox = new Inbox(db, (e) => { seen.push(e.event_id); return Promise.resolve([]); }, createMetrics(), log);
    expect(await inbox.receive("s1", json(txn), txn)).toBe("duplicate");
    expect(await inbox.receive("s1", json(txn), txn)).toBe("duplicate");
    await inbox.drain();
    expect(seen).toEqual(["$s1"]);
    expect(await inbox.receive("s1", json(txn), txn)).toBe("duplicate");
    await inbox.drain();
    expect(seen).toEqual(["$s1"]);
  });

  it("stores events read back from a room's history as a transaction of their own, once per cause, however full the backlog", async () => {
    await settle(db);
    const seen: string[] = [];
    const inbox = new Inbox(db, (e) => { seen.push(e.event_id); return Promise.resolve([]); }, createMetrics(), log, { maxPendingEvents: 1 });
    const busy = { events: [ev("$m0", "!r11:hs"), ev("$m00", "!r11:hs")], extra: {} };
    // The backlog is full (a transaction larger than its limit was taken into it empty) ...
    expect(await inbox.receive("m-busy", json(busy), busy)).toBe("stored");
    const missed = [ev("$m1", "!r12:hs"), ev("$m2", "!r12:hs")];
    // ... and the read-back is taken all the same; a replay of its cause stores nothing new.
    await inbox.storeMissed("loket-missed:$invite", missed);
    await inbox.storeMissed("loket-missed:$invite", missed);
    await inbox.storeMissed("loket-missed:$nothing", []);
    await inbox.drain();
    // Each once; rooms run side by side, each in its order.
    expect([...seen].sort()).toEqual(["$m0", "$m00", "$m1", "$m2"]);
    expect(seen.filter((id) => id === "$m1" || id === "$m2")).toEqual(["$m1", "$m2"]);
    const rows = await db.query<{ txn_id: string; done: boolean }>("SELECT txn_id, processed_at IS NOT NULL AS done FROM inbox_transactions WHERE txn_id LIKE 'loket-missed:%'");
    expect(rows).toEqual([{ txn_id: "loket-missed:$invite", done: true }]);
  });

  it("a read-back stored while recovery loads its pages is processed once", async () => {
    await settle(db);
    // More transactions left pending by a stop than one recovery page holds.
    for (let i = 0; i < 25; i++) {
      const t = { events: [ev(`$rc${i}`, "!r13:hs")], extra: {} };
      await storeTransaction(db, `rc${i}`, json(t), ids(t.events));
    }
    let open!: () => void;
    const gate = new Promise<void>((resolve) => { open = resolve; });
    const seen: string[] = [];
    const inbox = new Inbox(db, async (e) => { await gate; seen.push(e.event_id); return []; }, createMetrics(), log, { maxPendingEvents: 1 });
    // Recovery waits for room in the backlog while a recovered invite's job reads back a DM.
    const recovering = inbox.recover();
    await inbox.storeMissed("loket-missed:$rc-invite", [ev("$rcm", "!r14:hs")]);
    open();
    await recovering;
    await inbox.drain();
    expect(seen.filter((id) => id === "$rcm")).toEqual(["$rcm"]);
    expect(seen).toHaveLength(26);
  });

  it("records a failing handler and carries on with the room", async () => {
    const seen: string[] = [];
    const inbox = new Inbox(db, (e) => {
      seen.push(e.event_id);
      return Promise.resolve(e.event_id === "$c1" ? ["greeting: Error: boom"] : []);
    }, createMetrics(), log);
    const txn = { events: [ev("$c1", "!r2:hs"), ev("$c2", "!r2:hs")], extra: {} };
    expect(await inbox.receive("7", json(txn), txn)).toBe("stored");
    await inbox.drain();
    expect(seen).toEqual(["$c1", "$c2"]);
    const failures = await db.query<{ event_id: string; failure: string }>("SELECT event_id, failure FROM inbox_failures");
    expect(failures).toEqual([{ event_id: "$c1", failure: "greeting: Error: boom" }]);
  });

  it("prunes transactions processed longer ago than the retention, and nothing pending", async () => {
    await settle(db);
    const txn = { events: [ev("$p1", "!r7:hs")], extra: {} };
    await storeTransaction(db, "p-pending", json(txn), ids(txn.events));
    await db.query("UPDATE inbox_transactions SET processed_at = now() - interval '8 days' WHERE processed_at IS NOT NULL");
    const [before] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM inbox_transactions WHERE processed_at IS NOT NULL");
    expect(before?.n).toBeGreaterThan(0);
    expect(await pruneProcessed(db, 7)).toBe(before?.n);
    const left = await db.query<{ txn_id: string }>("SELECT txn_id FROM inbox_transactions");
    expect(left).toEqual([{ txn_id: "p-pending" }]);
    expect(await pruneProcessed(db, 7)).toBe(0);
  });
});
