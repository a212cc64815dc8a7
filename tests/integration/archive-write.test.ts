// The archive's write path on both backends: a batch goes in one statement from the head the
// writer last left, and falls back to locking the head when that head moved or an event is
// archived already; the chain verifies and no event is archived twice. Room batches of two
// municipalities written concurrently keep each chain whole and each room's order; one event the
// database refuses does not keep the other rooms' events out.
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { captureBatch, type CaptureInput } from "../../src/archive/capture.ts";
import { verifyChain } from "../../src/archive/verify.ts";
import { ArchiveWriter } from "../../src/archive/writer.ts";
import type { Database } from "../../src/db/database.ts";
import { useMigratedDatabase } from "../harness/database.ts";

const input = (id: string, room: string, municipality = "noord", body = id): CaptureInput => ({
  event: { event_id: id, room_id: room, type: "m.room.message", sender: "@burger:hs", origin_server_ts: 1_700_000_000_000, content: { msgtype: "m.text", body } },
  context: { municipality, citizen: "@burger:hs" },
  receivedAt: new Date(),
  bot: "@gemeente:hs",
  hooks: ["http://127.0.0.1:9/hook"],
});
const ids = (n: number, prefix: string, room = "!r:hs", municipality = "noord"): CaptureInput[] =>
  Array.from({ length: n }, (_, i) => input(`$${prefix}${i}`, room, municipality));

describe.each(["postgres", "pglite"] as const)("archive writes on %s", (kind) => {
  let db: Database;
  const store = useMigratedDatabase(kind, "loket-archive-write-", 4);
  beforeAll(() => {
    db = store.db;
  });
  beforeEach(async () => {
    for (const t of ["archive_hook_outbox", "archive_media", "archive_records", "archive_conversations", "archive_heads"]) await db.query(`DELETE FROM ${t}`);
  });

  it("writes from the remembered head in one statement, falls back when it moved or an event is archived, and never twice", async () => {
    const first = await captureBatch(db, "noord", ids(3, "a"));
    expect(first.head.seq).toBe(3);
    const second = await captureBatch(db, "noord", ids(2, "b"), first.head);
    expect(second.results.map((r) => r.archived && r.seq)).toEqual([4, 5]);
    // A head this process no longer has (another writer moved it): nothing is lost or forked.
    const stale = await captureBatch(db, "noord", ids(2, "c"), first.head);
    expect(stale.head.seq).toBe(7);
    // A replay with the right head: the archived events are skipped, the new one goes on.
    const replay = await captureBatch(db, "noord", [...ids(2, "c"), input("$d0", "!r:hs")], stale.head);
    expect(replay.results.map((r) => r.archived)).toEqual([false, false, true]);
    const v = await verifyChain(db, "noord");
    expect(v.broken).toBeUndefined();
    expect(v.count).toBe(8);
    const [outbox] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM archive_hook_outbox");
    expect(outbox?.n).toBe(8);
  });

  it("keeps each chain whole and each room's order when two municipalities' rooms write at once", async () => {
    const writer = new ArchiveWriter(db);
    const rooms = Array.from({ length: 12 }, (_, r) => ({ room: `!room${r}:hs`, municipality: r % 2 === 0 ? "noord" : "zuid" }));
    await Promise.all(rooms.map(async ({ room, municipality }) => {
      for (let b = 0; b < 5; b++) await writer.write(ids(3, `${room}-${b}-`, room, municipality));
    }));
    for (const m of ["noord", "zuid"]) {
      const v = await verifyChain(db, m);
      expect(v.broken).toBeUndefined();
      expect(v.count).toBe(6 * 5 * 3);
    }
    const rows = await db.query<{ room_id: string; event_id: string }>("SELECT room_id, event_id FROM archive_records ORDER BY municipality, seq");
    for (const { room } of rooms) {
      const order = rows.filter((r) => r.room_id === room).map((r) => r.event_id);
      expect(order).toEqual(Array.from({ length: 5 }, (_, b) => [0, 1, 2].map((i) => `$${room}-${b}-${i}`)).flat());
    }
  });

  it("an event the database refuses fails its own room's write, not the others' in the same batch", async () => {
    const writer = new ArchiveWriter(db);
    // A NUL cannot be stored in jsonb: the database refuses it (SQLSTATE class 22).
    const bad = input("$bad", "!bad:hs", "noord", "nul \u0000 hier");
    const outcomes = await Promise.allSettled([writer.write(ids(2, "ok1-", "!ok1:hs")), writer.write([bad]), writer.write(ids(2, "ok2-", "!ok2:hs"))]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const v = await verifyChain(db, "noord");
    expect(v.broken).toBeUndefined();
    expect(v.count).toBe(4);
  });
});
