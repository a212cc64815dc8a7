// Processing per room batch (a room's events of one transaction): grouping, routing with work
// deferred to the end of the batch, the archive writer's batches, and the room directory that
// reads what rooms are in one query per batch of rooms.
import { describe, expect, it } from "vitest";
import { takeBatch } from "../../src/archive/writer.ts";
import { EventFailures, routeBatch, type Capability } from "../../src/core/capability.ts";
import { RoomDirectory } from "../../src/conversations/directory.ts";
import { roomTablesChanged } from "../../src/db/changes.ts";
import type { Database } from "../../src/db/database.ts";
import { groupByRoom, RoomGroups } from "../../src/inbox/batches.ts";
import { decodeEvent, type RawEvent } from "../../src/matrix/events.ts";
import { Interrupted } from "../../src/util/retry.ts";

const raw = (id: string, room: string): RawEvent => ({ event_id: id, room_id: room, type: "m.room.message", sender: "@a:hs", content: { msgtype: "m.text", body: id } });
const policy = () => ({ isTransient: () => false, signal: new AbortController().signal, firstDelayMs: 1, maxDelayMs: 1 });
const asEvent = (r: RawEvent) => Promise.resolve({ ev: decodeEvent(r), as: "event" as const });

describe("a transaction's events in room batches", () => {
  it("keeps each room's events in order, rooms in the order of their first event", () => {
    const batches = groupByRoom([raw("$1", "!a:hs"), raw("$2", "!b:hs"), raw("$3", "!a:hs"), raw("$4", "!c:hs"), raw("$5", "!b:hs")]);
    expect([...batches.keys()]).toEqual(["!a:hs", "!b:hs", "!c:hs"]);
    expect([...batches.values()].map((b) => b.map((e) => e.event_id))).toEqual([["$1", "$3"], ["$2", "$5"], ["$4"]]);
    expect(groupByRoom([]).size).toBe(0);
  });
});

describe("a busy room's waiting transactions in one batch", () => {
  const share = (n: number, tag: string) => ({ tag, events: Array.from({ length: n }, () => 0) });

  it("a share joins the group that waits in its room, up to the limit; a started group takes no more", () => {
    const groups = new RoomGroups<ReturnType<typeof share>>(5);
    const first = groups.add("!a:hs", share(2, "t1"));
    expect(first?.map((s) => s.tag)).toEqual(["t1"]);
    expect(groups.add("!a:hs", share(2, "t2"))).toBeUndefined();
    expect(groups.add("!b:hs", share(1, "t2"))?.map((s) => s.tag)).toEqual(["t2"]);
    // Beyond the limit: a group of its own.
    const third = groups.add("!a:hs", share(3, "t3"));
    expect(third?.map((s) => s.tag)).toEqual(["t3"]);
    expect(first?.map((s) => s.tag)).toEqual(["t1", "t2"]);
    groups.close("!a:hs", third);
    expect(groups.add("!a:hs", share(1, "t4"))?.map((s) => s.tag)).toEqual(["t4"]);
    // Closing an older group leaves the waiting one open.
    groups.close("!a:hs", first);
    expect(groups.add("!a:hs", share(1, "t5"))).toBeUndefined();
    // Something else queued in the room (a late event): the next share starts a new group.
    groups.close("!a:hs");
    expect(groups.add("!a:hs", share(1, "t6"))?.map((s) => s.tag)).toEqual(["t6"]);
  });
});

describe("routing a room batch", () => {
  it("runs every hook per event in order, then ends the batch; deferred failures land on their own events", async () => {
    const calls: string[] = [];
    const first: Capability = { name: "first", onEvent: (e) => { calls.push(`first ${e.eventId}`); return Promise.resolve(); } };
    const deferring: Capability = {
      name: "deferring",
      onEvent: (e) => { calls.push(`deferring ${e.eventId}`); return Promise.resolve(); },
      endBatch: (room, outcome) => {
        calls.push(`end ${room} ${outcome}`);
        return Promise.reject(new EventFailures(new Map([["$2", new Error("refused")]])));
      },
    };
    const failures = await routeBatch([first, deferring], "!a:hs", [raw("$1", "!a:hs"), raw("$2", "!a:hs")], asEvent, policy);
    expect(calls).toEqual(["first $1", "deferring $1", "first $2", "deferring $2", "end !a:hs done"]);
    expect(failures.map((f) => f.map((x) => `${x.capability}: ${String(x.error)}`))).toEqual([[], ["deferring: Error: refused"]]);
  });

  it("an input with nothing to route (waiting for its key) reports nothing; a bug at the end of the batch lands on every event", async () => {
    const buggy: Capability = { name: "buggy", endBatch: () => Promise.reject(new Error("bug")) };
    const failures = await routeBatch([buggy], "!a:hs", [raw("$1", "!a:hs"), raw("$2", "!a:hs")], (r) => (r.event_id === "$1" ? Promise.resolve(undefined) : asEvent(r)), policy);
    expect(failures.map((f) => f.length)).toEqual([0, 1]);
  });

  it("when Loket stops mid-batch, every capability is told to drop what it deferred, and the batch is not done", async () => {
    const ends: string[] = [];
    const stopping: Capability = { name: "stopping", onEvent: (e) => (e.eventId === "$2" ? Promise.reject(new Interrupted()) : Promise.resolve()) };
    const deferring: Capability = { name: "deferring", endBatch: (_room, outcome) => { ends.push(outcome); return Promise.resolve(); } };
    await expect(routeBatch([stopping, deferring], "!a:hs", [raw("$1", "!a:hs"), raw("$2", "!a:hs")], asEvent, policy)).rejects.toBeInstanceOf(Interrupted);
    expect(ends).toEqual(["interrupted"]);
  });
});

describe("the archive writer's batches", () => {
  it("takes whole room batches up to the event limit, and always at least one", () => {
    const q = [{ inputs: [1, 2] }, { inputs: [3, 4, 5] }, { inputs: [6] }];
    expect(takeBatch(q, 5).map((p) => p.inputs)).toEqual([[1, 2], [3, 4, 5]]);
    expect(q).toEqual([{ inputs: [6] }]);
    const big = [{ inputs: [1, 2, 3, 4, 5, 6, 7] }, { inputs: [8] }];
    expect(takeBatch(big, 5).map((p) => p.inputs)).toEqual([[1, 2, 3, 4, 5, 6, 7]]);
    expect(takeBatch([], 5)).toEqual([]);
  });
});

describe("the room directory", () => {
  const fakeDb = (): { db: Database; queries: string[][] } => {
    const queries: string[][] = [];
    const db = {
      query: (_sql: string, params: unknown[] = []) => {
        const rooms = params[0] as string[];
        queries.push(rooms);
        return Promise.resolve(rooms.filter((r) => r.startsWith("!m")).map((room) => ({
          room, id: null, updated_at: null, m_municipality: "noord", m_kind: "department", m_department: "bz", d_bot: null, d_citizen: null,
        })));
      },
    } as unknown as Database;
    return { db, queries };
  };

  it("reads the rooms asked about in one turn of the event loop in one query, and keeps the answers", async () => {
    const { db, queries } = fakeDb();
    const dir = new RoomDirectory(db);
    const [a, b, again] = await Promise.all([dir.lookup("!m1:hs"), dir.lookup("!x:hs"), dir.lookup("!m1:hs")]);
    expect(queries).toEqual([["!m1:hs", "!x:hs"]]);
    expect(a.managed).toEqual({ municipality: "noord", kind: "department", department: "bz" });
    expect(b).toEqual({});
    expect(again).toBe(a);
    await dir.lookup("!x:hs");
    expect(queries).toHaveLength(1);
  });

  it("reads again after a write to the rooms' tables, after forget, and once the answer is older than its ttl", async () => {
    const { db, queries } = fakeDb();
    const dir = new RoomDirectory(db, { ttlMs: 20 });
    await dir.lookup("!x:hs");
    roomTablesChanged();
    await dir.lookup("!x:hs");
    dir.forget("!x:hs");
    await dir.lookup("!x:hs");
    await new Promise((r) => setTimeout(r, 30));
    await dir.lookup("!x:hs");
    expect(queries).toHaveLength(4);
  });

  it("a fresh answer is read again, in the same query as the other rooms of its turn", async () => {
    const { db, queries } = fakeDb();
    const dir = new RoomDirectory(db);
    await dir.lookup("!c:hs");
    await Promise.all([dir.lookup("!c:hs", "fresh"), dir.lookup("!d:hs"), dir.lookup("!m1:hs", "fresh")]);
    expect(queries).toEqual([["!c:hs"], ["!c:hs", "!d:hs", "!m1:hs"]]);
  });

  it("peek gives the kept answer at once, as lookup would, and nothing where lookup would read", async () => {
    const { db, queries } = fakeDb();
    const dir = new RoomDirectory(db, { ttlMs: 20 });
    expect(dir.peek("!m1:hs")).toBeUndefined();
    const pending = dir.lookup("!m1:hs");
    // Asked but not read yet: nothing to give at once.
    expect(dir.peek("!m1:hs")).toBeUndefined();
    const facts = await pending;
    expect(dir.peek("!m1:hs")).toBe(facts);
    expect(dir.peek("!m1:hs", "status")).toBe(facts);
    expect(dir.peek("!m1:hs", "fresh")).toBeUndefined();
    roomTablesChanged();
    expect(dir.peek("!m1:hs")).toBeUndefined();
    await dir.lookup("!m1:hs");
    dir.forget("!m1:hs");
    expect(dir.peek("!m1:hs")).toBeUndefined();
    await dir.lookup("!m1:hs");
    await new Promise((r) => setTimeout(r, 30));
    expect(dir.peek("!m1:hs")).toBeUndefined();
    expect(queries).toHaveLength(3);
  });

  it("knows that it knows nothing of a room only from a kept answer that says so", async () => {
    const { db, queries } = fakeDb();
    const dir = new RoomDirectory(db, { ttlMs: 20 });
    // Never read, or being read: it must be read, so it does not know.
    expect(dir.knowsNothingOf("!x:hs")).toBe(false);
    const pending = dir.lookup("!x:hs");
    expect(dir.knowsNothingOf("!x:hs")).toBe(false);
    await pending;
    expect(dir.knowsNothingOf("!x:hs")).toBe(true);
    // A managed room is something.
    await dir.lookup("!m1:hs");
    expect(dir.knowsNothingOf("!m1:hs")).toBe(false);
    // A write to the rooms' tables (a conversation made in the room) drops the answer; so do forget and age.
    roomTablesChanged();
    expect(dir.knowsNothingOf("!x:hs")).toBe(false);
    await dir.lookup("!x:hs");
    dir.forget("!x:hs");
    expect(dir.knowsNothingOf("!x:hs")).toBe(false);
    await dir.lookup("!x:hs");
    await new Promise((r) => setTimeout(r, 30));
    expect(dir.knowsNothingOf("!x:hs")).toBe(false);
    expect(queries).toHaveLength(4);
  });

  it("a status answer is read again where a conversation was found, and kept where none was", async () => {
    const queries: string[][] = [];
    const conversationRow = (room: string) => ({
      room, id: 7, municipality: "noord", reference: "NOORD-1", citizen: "@burger:hs", room_id: room, dm_room_id: null, status: "open",
      department: "bz", language: "nl", assigned: "[]", queued_at: null, due_at: null, overdue: false, last_citizen_at: null, last_staff_at: null,
      updated_at: new Date(0), m_municipality: null, m_kind: null, m_department: null, d_bot: null, d_citizen: null,
    });
    const db = {
      query: (_sql: string, params: unknown[] = []) => {
        const rooms = params[0] as string[];
        queries.push(rooms);
        return Promise.resolve(rooms.filter((r) => r.startsWith("!conv")).map(conversationRow));
      },
    } as unknown as Database;
    const dir = new RoomDirectory(db);
    await Promise.all([dir.lookup("!conv:hs"), dir.lookup("!other:hs")]);
    const [conv, other] = await Promise.all([dir.lookup("!conv:hs", "status"), dir.lookup("!other:hs", "status")]);
    expect(queries).toEqual([["!conv:hs", "!other:hs"], ["!conv:hs"]]);
    expect(conv.conversation?.reference).toBe("NOORD-1");
    expect(other).toEqual({});
    // Peek agrees: a conversation's status is never given from what was kept.
    expect(dir.peek("!conv:hs", "status")).toBeUndefined();
    expect(dir.peek("!conv:hs", "kept")).toBe(conv);
    expect(dir.peek("!other:hs", "status")).toBe(other);
    // A write to the rooms' tables: the room without a conversation is read again too.
    roomTablesChanged();
    await dir.lookup("!other:hs", "status");
    expect(queries).toHaveLength(3);
  });

  it("a status answer without a conversation is read again once it is older than its ttl, or when a write ended during its read", async () => {
    const queries: string[][] = [];
    let answer: (rows: unknown[]) => void = () => undefined;
    const db = {
      query: (_sql: string, params: unknown[] = []) => {
        queries.push(params[0] as string[]);
        return new Promise((resolve) => { answer = resolve; });
      },
    } as unknown as Database;
    const dir = new RoomDirectory(db, { ttlMs: 20 });
    // A write to the rooms' tables ends while the first read is on its way: that answer is stale.
    const first = dir.lookup("!x:hs", "status");
    await new Promise((r) => setImmediate(r));
    roomTablesChanged();
    answer([]);
    await first;
    const second = dir.lookup("!x:hs", "status");
    await new Promise((r) => setImmediate(r));
    answer([]);
    await second;
    expect(queries).toHaveLength(2);
    // Kept while fresh enough, read again once older than the ttl.
    await dir.lookup("!x:hs", "status");
    expect(queries).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 30));
    const third = dir.lookup("!x:hs", "status");
    await new Promise((r) => setImmediate(r));
    answer([]);
    await third;
    expect(queries).toHaveLength(3);
  });

  it("a failed read is not kept", async () => {
    let fail = true;
    const db = { query: () => (fail ? Promise.reject(new Error("down")) : Promise.resolve([])) } as unknown as Database;
    const dir = new RoomDirectory(db);
    await expect(dir.lookup("!x:hs")).rejects.toThrow("down");
    fail = false;
    await expect(dir.lookup("!x:hs")).resolves.toEqual({});
  });
});
