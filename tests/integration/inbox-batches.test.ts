// The inbox hands the processor a room's events as batches: one per room and transaction, and
// while a room is busy, the transactions waiting for it together; each transaction is still
// marked processed, and failures are recorded under their own transaction.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createMetrics } from "../../src/http/metrics.ts";
import { Inbox } from "../../src/inbox/inbox.ts";
import type { RawEvent } from "../../src/matrix/events.ts";
import { Interrupted } from "../../src/util/retry.ts";
import { latch } from "../harness/wait.ts";

const ev = (id: string, room: string): RawEvent => ({ event_id: id, room_id: room, type: "m.room.message", sender: "@b:hs", content: { msgtype: "m.text", body: id } });
const txn = (...events: RawEvent[]) => ({ body: Buffer.from(JSON.stringify({ events })), decoded: { events, extra: {} } });
const log = pino({ level: "silent" });

describe("room batches in the inbox", () => {
  let db: Database;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "loket-batches-"));
    db = await openDatabase({ url: "", dataDir: join(dir, "pglite"), poolSize: 1 });
    await migrate(db);
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("one batch per room and transaction; a busy room's waiting transactions come as one batch, in order", async () => {
    await db.query("DELETE FROM inbox_transactions");
    await db.query("DELETE FROM inbox_failures");
    const busy = latch();
    const batches: string[][] = [];
    const firstStarted = latch();
    const inbox = new Inbox(db, { batch: async (_room, events) => {
      batches.push(events.map((e) => e.event_id));
      if (batches.length === 2) firstStarted.resolve();
      if (events[0]?.event_id === "$a1") await busy.promise;
      return events.map((e) => (e.event_id === "$a4" ? ["x: refused"] : []));
    } }, createMetrics(), log);
    const t1 = txn(ev("$a1", "!a:hs"), ev("$b1", "!b:hs"), ev("$a2", "!a:hs"));
    const t2 = txn(ev("$a3", "!a:hs"), ev("$b2", "!b:hs"));
    const t3 = txn(ev("$a4", "!a:hs"));
    await inbox.receive("t1", t1.body, t1.decoded);
    // Batches start in coming turns of the event loop; until both of t1's have, t2's shares would join them.
    await firstStarted.promise;
    await inbox.receive("t2", t2.body, t2.decoded);
    await inbox.receive("t3", t3.body, t3.decoded);
    busy.resolve();
    await inbox.drain();
    expect(batches).toEqual([["$a1", "$a2"], ["$b1"], ["$b2"], ["$a3", "$a4"]]);
    const rows = await db.query<{ txn_id: string; processed: boolean }>("SELECT txn_id, processed_at IS NOT NULL AS processed FROM inbox_transactions ORDER BY seq");
    expect(rows).toEqual([{ txn_id: "t1", processed: true }, { txn_id: "t2", processed: true }, { txn_id: "t3", processed: true }]);
    const failures = await db.query<{ txn_id: string; event_id: string }>(
      "SELECT t.txn_id, f.event_id FROM inbox_failures f JOIN inbox_transactions t ON t.seq = f.txn_seq",
    );
    expect(failures).toEqual([{ txn_id: "t3", event_id: "$a4" }]);
  });

  it("a batch interrupted by the stop leaves every transaction in it pending", async () => {
    await db.query("DELETE FROM inbox_transactions");
    const busy = latch();
    const firstStarted = latch();
    const inbox = new Inbox(db, { batch: async (_room, events) => {
      if (events[0]?.event_id === "$c1") {
        firstStarted.resolve();
        await busy.promise;
        return [[]];
      }
      throw new Interrupted();
    } }, createMetrics(), log);
    for (const [id, e] of [["u1", "$c1"], ["u2", "$c2"], ["u3", "$c3"]] as const) {
      const t = txn(ev(e, "!c:hs"));
      await inbox.receive(id, t.body, t.decoded);
      if (id === "u1") await firstStarted.promise;
    }
    busy.resolve();
    await inbox.drain();
    const rows = await db.query<{ txn_id: string; processed: boolean }>("SELECT txn_id, processed_at IS NOT NULL AS processed FROM inbox_transactions ORDER BY seq");
    expect(rows).toEqual([{ txn_id: "u1", processed: true }, { txn_id: "u2", processed: false }, { txn_id: "u3", processed: false }]);
  });

  it("events nothing acts on are done without a job, unless something waits in their room's lane", async () => {
    await db.query("DELETE FROM inbox_transactions");
    const busy = latch();
    const routed: string[][] = [];
    const aStarted = latch();
    // Nothing acts on messages in !quiet or !a (say the capabilities), everything on the rest.
    const ignores = (room: string, events: readonly RawEvent[]) => room === "!quiet:hs" || (room === "!a:hs" && events.every((e) => e.event_id !== "$a1"));
    const inbox = new Inbox(db, { batch: async (_room, events) => {
      routed.push(events.map((e) => e.event_id));
      if (events[0]?.event_id === "$a1") {
        aStarted.resolve();
        await busy.promise;
      }
      return events.map(() => []);
    } }, createMetrics(), log, { ignores });
    const t1 = txn(ev("$q1", "!quiet:hs"), ev("$a1", "!a:hs"), ev("$q2", "!quiet:hs"));
    await inbox.receive("q1", t1.body, t1.decoded);
    await aStarted.promise;
    // !a's lane is busy with $a1: $a2 waits for it there (it would see what $a1 changed), though it is ignored.
    const t2 = txn(ev("$a2", "!a:hs"), ev("$q3", "!quiet:hs"));
    await inbox.receive("q2", t2.body, t2.decoded);
    busy.resolve();
    await inbox.drain();
    expect(routed).toEqual([["$a1"], ["$a2"]]);
    // Once !a's lane is idle, its ignored events are done at once too.
    const t3 = txn(ev("$a3", "!a:hs"));
    await inbox.receive("q3", t3.body, t3.decoded);
    await inbox.drain();
    expect(routed).toEqual([["$a1"], ["$a2"]]);
    const rows = await db.query<{ txn_id: string; processed: boolean }>("SELECT txn_id, processed_at IS NOT NULL AS processed FROM inbox_transactions ORDER BY seq");
    expect(rows).toEqual([{ txn_id: "q1", processed: true }, { txn_id: "q2", processed: true }, { txn_id: "q3", processed: true }]);
  });

  it("what nothing acts on is asked when the transaction is scheduled, not while it is being stored", async () => {
    await db.query("DELETE FROM inbox_transactions");
    // The INSERT of a transaction waits for the gate of its time.
    let gate = Promise.resolve();
    const gated = new Proxy(db, {
      get(target, key) {
        if (key === "query") return (sql: string, params?: unknown[]) => (sql.startsWith("INSERT INTO inbox_transactions") ? gate.then(() => target.query(sql, params)) : target.query(sql, params));
        const value: unknown = Reflect.get(target, key);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const busy = latch();
    const aFinished = latch();
    // !a is unknown until $a1's job makes it known (as a conversation started by an invite would).
    let known = false;
    const routed: string[] = [];
    const inbox = new Inbox(gated, { batch: async (_room, events) => {
      routed.push(...events.map((e) => e.event_id));
      if (events[0]?.event_id === "$a1") {
        await busy.promise;
        known = true;
        aFinished.resolve();
      }
      return events.map(() => []);
    } }, createMetrics(), log, { ignores: (_room, events) => !known && events.every((e) => e.event_id !== "$a1") });
    const t1 = txn(ev("$a1", "!a:hs"));
    await inbox.receive("k1", t1.body, t1.decoded);
    // $a2 is judged while !a is still unknown; then $a1's job ends, before $a2's INSERT does.
    const opened = latch();
    gate = opened.promise;
    const t2 = txn(ev("$a2", "!a:hs"));
    const storing = inbox.receive("k2", t2.body, t2.decoded);
    busy.resolve();
    await aFinished.promise;
    await new Promise((r) => setImmediate(r));
    opened.resolve();
    expect(await storing).toBe("stored");
    await inbox.drain();
    expect(routed).toEqual(["$a1", "$a2"]);
  });
});
