// The inbox under the conditions of issue 5, on both backends (real PostgreSQL and PGlite):
// per-room order across restarts, failure records that cannot be written, content the database
// refuses, bounded memory, pruning.
import { pino } from "pino";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.ts";
import { createMetrics } from "../../src/http/metrics.ts";
import { Inbox, InboxBusy } from "../../src/inbox/inbox.ts";
import { pruneProcessed, storeTransaction } from "../../src/inbox/store.ts";
import { eventIdsOf } from "../../src/matrix/transaction-body.ts";
import type { RawEvent } from "../../src/matrix/events.ts";
import { Interrupted } from "../../src/util/retry.ts";
import { useMigratedDatabase } from "../harness/database.ts";

const ev = (id: string, room: string): RawEvent => ({ event_id: id, room_id: room, type: "m.room.message", sender: "@b:hs", content: { msgtype: "m.text", body: id } });
const txn = (...events: RawEvent[]) => ({ body: Buffer.from(JSON.stringify({ events })), decoded: { events, extra: {} } });
const log = pino({ level: "silent" });

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

describe.each(["postgres", "pglite"] as const)("inbox on %s", (kind) => {
  let db: Database;
  const store = useMigratedDatabase(kind, "loket-reliable-", 4);
  beforeAll(() => {
    db = store.db;
  });
  beforeEach(async () => {
    await db.query("DELETE FROM inbox_transactions");
    await db.query("DELETE FROM inbox_failures");
    await db.query("DELETE FROM inbox_poison");
  });

  it("keeps per-room order across a restart: an old event is never replayed after a newer one of its room", async () => {
    // Transaction A: an invite in room R and an event in room S whose handler is still busy when
    // Loket stops. Transaction B: a later kick in room R, processed completely before the stop.
    const a = txn(ev("$invite", "!R:hs"), ev("$slow", "!S:hs"));
    const b = txn(ev("$kick", "!R:hs"));
    const history: string[] = [];
    const kickDone = deferred();
    const stop = deferred();
    const first = new Inbox(db, async (e) => {
      history.push(e.event_id);
      if (e.event_id === "$kick") kickDone.resolve();
      if (e.event_id === "$slow") {
        await stop.promise;
        throw new Interrupted();
      }
      return [];
    }, createMetrics(), log);
    await first.receive("A", a.body, a.decoded);
    await first.receive("B", b.body, b.decoded);
    await kickDone.promise;
    stop.resolve();
    await first.drain();

    const second = new Inbox(db, (e) => { history.push(e.event_id); return Promise.resolve([]); }, createMetrics(), log);
    await second.recover();
    await second.drain();
    const roomR = history.filter((id) => id !== "$slow");
    // Whatever is replayed, room R ends with the kick after the invite.
    expect(roomR.lastIndexOf("$kick")).toBeGreaterThan(roomR.lastIndexOf("$invite"));
    expect(history.filter((id) => id === "$slow")).toHaveLength(2);
  });

  it("an event whose failure cannot be recorded is not done until it is recorded", async () => {
    let refusals = 2;
    const flaky: Database = {
      ...db,
      query: (sql, params) => {
        if (sql.startsWith("INSERT INTO inbox_failures") && refusals-- > 0) return Promise.reject(new Error("connection terminated"));
        return db.query(sql, params);
      },
      transaction: (fn) => db.transaction(fn),
    };
    const inbox = new Inbox(flaky, (e) => Promise.resolve(e.event_id === "$f1" ? ["greeting: Error: 403"] : []), createMetrics(), log, { retryMs: 5 });
    const t = txn(ev("$f1", "!F:hs"));
    await inbox.receive("F", t.body, t.decoded);
    await inbox.drain();
    const failures = await db.query<{ event_id: string; failure: string }>("SELECT event_id, failure FROM inbox_failures");
    expect(failures).toEqual([{ event_id: "$f1", failure: "greeting: Error: 403" }]);
    const [row] = await db.query<{ processed: boolean }>("SELECT processed_at IS NOT NULL AS processed FROM inbox_transactions WHERE txn_id = 'F'");
    expect(row?.processed).toBe(true);
  });

  it("if Loket stops while the failure still cannot be recorded, the transaction stays pending", async () => {
    const down: Database = {
      ...db,
      query: (sql, params) => (sql.startsWith("INSERT INTO inbox_failures") ? Promise.reject(new Error("connection terminated")) : db.query(sql, params)),
      transaction: (fn) => db.transaction(fn),
    };
    const stopped = new AbortController();
    const attempts = deferred();
    let tries = 0;
    const inbox = new Inbox(down, () => {
      if (++tries === 1) setImmediate(() => { attempts.resolve(); });
      return Promise.resolve(["greeting: Error: 403"]);
    }, createMetrics(), log, { retryMs: 5, signal: stopped.signal });
    const t = txn(ev("$g1", "!G:hs"));
    await inbox.receive("G", t.body, t.decoded);
    await attempts.promise;
    stopped.abort();
    await inbox.drain();
    const [row] = await db.query<{ processed: boolean }>("SELECT processed_at IS NOT NULL AS processed FROM inbox_transactions WHERE txn_id = 'G'");
    expect(row?.processed).toBe(false);
  });

  it("a transaction id the database refuses for its content is recorded as poison, bytes kept, and the next one flows", async () => {
    const seen: string[] = [];
    const inbox = new Inbox(db, (e) => { seen.push(e.event_id); return Promise.resolve([]); }, createMetrics(), log);
    const t = txn(ev("$p1", "!P:hs"));
    expect(await inbox.receive("\u0000", t.body, t.decoded)).toBe("poison");
    const [poison] = await db.query<{ txn_id: Uint8Array; body: Uint8Array; reason: string }>("SELECT txn_id, body, reason FROM inbox_poison");
    expect(Buffer.from(poison?.txn_id ?? []).equals(Buffer.from([0]))).toBe(true);
    expect(Buffer.from(poison?.body ?? []).equals(t.body)).toBe(true);
    expect(poison?.reason).toMatch(/^database_rejected 22/);
    const next = txn(ev("$p2", "!P:hs"));
    expect(await inbox.receive("next", next.body, next.decoded)).toBe("stored");
    await inbox.drain();
    expect(seen).toEqual(["$p2"]);
  });

  it("stores the body's bytes exactly, and records failures of events whose ids hold NUL", async () => {
    const weird = { ...ev("$w\u0000\ud800", "!W:hs") };
    const body = Buffer.from(JSON.stringify({ events: [weird] }));
    const inbox = new Inbox(db, () => Promise.resolve(["x: failed"]), createMetrics(), log);
    expect(await inbox.receive("W", body, { events: [weird], extra: {} })).toBe("stored");
    await inbox.drain();
    const [row] = await db.query<{ body: Uint8Array }>("SELECT body FROM inbox_transactions WHERE txn_id = 'W'");
    expect(Buffer.from(row?.body ?? []).equals(body)).toBe(true);
    expect(await db.query("SELECT event_id FROM inbox_failures")).toEqual([{ event_id: "$w\uFFFD\uFFFD" }]);
  });

  it("bounds the waiting backlog in bytes, checked before storing, never above the limit", async () => {
    const release = deferred();
    const metrics = createMetrics();
    const inbox = new Inbox(db, async () => { await release.promise; return []; }, metrics, log, { maxPendingBytes: 1_000 });
    const small = txn(ev("$b1", "!B:hs"));
    await inbox.receive("b1", small.body, small.decoded);
    const big = txn(ev(`$b2${"x".repeat(1_000)}`, "!B:hs"));
    await expect(inbox.receive("b2", big.body, big.decoded)).rejects.toBeInstanceOf(InboxBusy);
    expect((await metrics.pendingBytes.get()).values[0]?.value).toBe(small.body.length);
    // Refused before storing: Synapse retries it later.
    expect(await db.query("SELECT 1 FROM inbox_transactions WHERE txn_id = 'b2'")).toEqual([]);
    release.resolve();
    await inbox.drain();
    expect(inbox.relieved).toBe(true);
    // Into an empty backlog a transaction is taken whatever its size.
    expect(await inbox.receive("b2", big.body, big.decoded)).toBe("stored");
    await inbox.drain();
  });

  it("resumes a large backlog in order, in pages that fit the limit, refusing new transactions until all are scheduled", async () => {
    // Sequence numbers that cross a power of ten: 96 ... 125.
    await db.query("SELECT setval('inbox_transactions_seq_seq', 95)");
    for (let i = 0; i < 30; i++) {
      const t = txn(ev(`$r${i}`, "!room:hs"));
      await storeTransaction(db, `r${i}`, t.body, eventIdsOf(t.decoded));
    }
    const metrics = createMetrics();
    const seen: string[] = [];
    let most = 0;
    const inbox = new Inbox(db, async (e) => {
      most = Math.max(most, (await metrics.pending.get()).values[0]?.value ?? 0);
      seen.push(e.event_id);
      return [];
    }, metrics, log, { maxPendingEvents: 4 });
    expect(await inbox.recover()).toBe(30);
    const t = txn(ev("$new", "!room:hs"));
    if (!inbox.relieved) await expect(inbox.receive("new", t.body, t.decoded)).rejects.toBeInstanceOf(InboxBusy);
    await inbox.drain();
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => `$r${i}`));
    expect(most).toBeLessThanOrEqual(4);
    expect(await inbox.receive("new", t.body, t.decoded)).toBe("stored");
    await inbox.drain();
  });

  it("prunes by counting in the database, not by fetching the deleted rows", async () => {
    for (let i = 0; i < 50; i++) {
      const t = txn(ev(`$q${i}`, "!Q:hs"));
      await storeTransaction(db, `q${i}`, t.body, eventIdsOf(t.decoded));
    }
    await db.query("UPDATE inbox_transactions SET processed_at = now() - interval '8 days'");
    let rowsFetched = 0;
    const counting: Database = { ...db, query: async (sql, params) => { const rows = await db.query(sql, params); rowsFetched += rows.length; return rows as never; } };
    expect(await pruneProcessed(counting, 7)).toBe(50);
    expect(rowsFetched).toBeLessThanOrEqual(1);
  });
});
