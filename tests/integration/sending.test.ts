// The outgoing path on a real Synapse: one room's failures never hold or fail another room's
// messages, a message goes out exactly once across a Loket restart and a Synapse restart (which
// forgets Synapse's own transaction cache), and a direct chat that stops being one is left.
import { Preset } from "matrix-js-sdk";
import { afterAll, describe, expect, it } from "vitest";
import { newUser, openDm, roomMessages, waitForEvent, waitForMessageFrom, type TestUser } from "../harness/client.ts";
import { startHttpProxy, type HttpProxy } from "../harness/http-proxy.ts";
import { inboxEvents } from "../harness/inbox.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually } from "../harness/wait.ts";

let proxy: HttpProxy | undefined;
const fixture = useStack(() => ({
  homeserverUrl: async (synapsePort) => {
    proxy = await startHttpProxy(synapsePort);
    return proxy.url;
  },
}), async () => { await proxy?.close(); });
const bot = `@gemeente_testdorp:${SERVER_NAME}`;
const users: TestUser[] = [];
afterAll(() => { for (const u of users) u.client.stopClient(); });

const citizens = async (n: number, prefix: string): Promise<TestUser[]> => {
  const list = await Promise.all(Array.from({ length: n }, () => newUser(fixture.stack.synapse, prefix)));
  users.push(...list);
  return list;
};
const botMessages = async (user: TestUser, roomId: string) =>
  (await roomMessages(user.client, roomId)).filter((m) => m.sender === bot && m.type === "m.room.message");
const sendRoom = (url: string | undefined): string | undefined => /\/rooms\/([^/]+)\/send\//.exec(url ?? "")?.[1];

describe("one room's failures stay in that room", () => {
  it("a DM where the bot may not post (403) beside 15 honest DMs: all 15 are greeted, one failure is recorded", async () => {
    const { stack } = fixture;
    const [attacker] = await citizens(1, "aanvaller");
    if (!attacker) throw new Error("no attacker");
    const honest = await citizens(15, "eerlijk");
    // All at once, so that the trap's refused greeting is under way while the others wait.
    const [{ room_id: trap }, rooms] = await Promise.all([
      attacker.client.createRoom({
        is_direct: true, invite: [bot], preset: Preset.PrivateChat,
        power_level_content_override: { events_default: 100 },
      }),
      Promise.all(honest.map((c) => openDm(c, bot))),
    ]);
    const greetings = await Promise.all(honest.map((c, i) => waitForMessageFrom(c.client, rooms[i] ?? "", bot)));
    expect(greetings.map((g) => g.getContent().msgtype)).toEqual(Array(15).fill("m.notice"));
    await stack.loket.idle();
    const failures = await stack.loket.database.query<{ room_id: string; failure: string }>("SELECT room_id, failure FROM inbox_failures");
    expect(failures.map((f) => f.room_id)).toEqual([trap]);
    expect(failures[0]?.failure).toMatch(/M_FORBIDDEN/);
  });

  it("a room whose sends fail with 500 keeps retrying while five other citizens are greeted", async () => {
    const p = proxy;
    if (!p) throw new Error("no proxy");
    let failing: string | undefined;
    // The first room that sends from now on is the failing one.
    p.failWhen((req) => {
      const room = sendRoom(req.url);
      if (room === undefined) return false;
      failing ??= room;
      return room === failing;
    });
    const [first, ...others] = await citizens(6, "geduld");
    if (!first) throw new Error("no citizen");
    const badRoom = await openDm(first, bot);
    await eventually(() => Promise.resolve(p.failed >= 1 ? true : undefined), "the first failed send");
    expect(decodeURIComponent(failing ?? "")).toBe(badRoom);
    const rooms = await Promise.all(others.map((c) => openDm(c, bot)));
    await Promise.all(others.map((c, i) => waitForMessageFrom(c.client, rooms[i] ?? "", bot, 10_000)));
    // The failing room was retried meanwhile and is still not greeted.
    expect(p.failed).toBeGreaterThan(1);
    expect(await botMessages(first, badRoom)).toEqual([]);
    p.failWhen(undefined);
    await waitForMessageFrom(first.client, badRoom, bot);
    await fixture.stack.loket.idle();
    expect(await botMessages(first, badRoom)).toHaveLength(1);
  });
});

describe("exactly once", () => {
  it("replaying the invites after a Synapse restart sends no greeting twice, also when the send was accepted but not recorded", async () => {
    const { stack } = fixture;
    const [a, b] = await citizens(2, "eenmaal");
    if (!a || !b) throw new Error("no citizens");
    const recorded = await openDm(a, bot);
    const unrecorded = await openDm(b, bot);
    await waitForMessageFrom(a.client, recorded, bot);
    await waitForMessageFrom(b.client, unrecorded, bot);
    await stack.loket.idle();
    const db = stack.loket.database;
    // As if Loket had been killed: the invites not processed, and for one room the homeserver's
    // acceptance of the greeting never recorded.
    const seqs = (await inboxEvents(db)).filter((r) => r.event.room_id === recorded || r.event.room_id === unrecorded).map((r) => r.txnSeq);
    await db.query("UPDATE inbox_transactions SET processed_at = NULL WHERE seq = ANY($1::bigint[])", [seqs]);
    await db.query("UPDATE outgoing_sends SET event_id = NULL WHERE room_id = $1", [unrecorded]);
    await stack.stopLoket();
    await stack.synapse.restart();
    await stack.restartLoket();
    await stack.loket.idle();
    expect(await botMessages(a, recorded)).toHaveLength(1);
    expect(await botMessages(b, unrecorded)).toHaveLength(1);
    const rows = await stack.loket.database.query<{ room_id: string; attempts: number; event_id: string | null }>(
      "SELECT room_id, attempts, event_id FROM outgoing_sends WHERE room_id = ANY($1::text[]) ORDER BY room_id", [[recorded, unrecorded]],
    );
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.attempts).toBe(1);
      expect(row.event_id).toMatch(/^\$/);
    }
  });
});

describe("a direct chat that stops being one", () => {
  const botLeaves = (user: TestUser, roomId: string) =>
    waitForEvent(user.client, roomId, (ev) => ev.getType() === "m.room.member" && ev.getStateKey() === bot && ev.getContent().membership === "leave");

  it("is left when the citizen makes it public", async () => {
    const [c] = await citizens(1, "openbaar");
    if (!c) throw new Error("no citizen");
    const roomId = await openDm(c, bot);
    await waitForMessageFrom(c.client, roomId, bot);
    await c.client.sendStateEvent(roomId, "m.room.join_rules" as never, { join_rule: "public" } as never, "");
    const left = await botLeaves(c, roomId);
    expect(left.getSender()).toBe(bot);
  });

  it("is left when someone else is invited and joins", async () => {
    const [c, other] = await citizens(2, "derde");
    if (!c || !other) throw new Error("no citizens");
    const roomId = await openDm(c, bot);
    await waitForMessageFrom(c.client, roomId, bot);
    await c.client.invite(roomId, other.userId);
    await other.client.joinRoom(roomId);
    const left = await botLeaves(c, roomId);
    expect(left.getSender()).toBe(bot);
    await fixture.stack.loket.idle();
    const rows = await fixture.stack.loket.database.query<{ left: boolean }>("SELECT left_at IS NOT NULL AS left FROM direct_rooms WHERE room_id = $1", [roomId]);
    expect(rows).toEqual([{ left: true }]);
  });
});
