// Federation between governments (issue 6) on three real Synapses federating over TLS on
// loopback: hs-a.test runs Loket for "Gemeente A", hs-b.test its own Loket for "Gemeente B";
// hs-b.test is on the list of A's inter-government room, hs-c.test is not (until config says so).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { t } from "../../src/i18n/index.ts";
import { newUser, openDm, waitForEvent, waitForMessageFrom, type TestUser } from "../harness/client.ts";
import { startFederation, type FederatedServer, type Federation } from "../harness/federation.ts";
import { waitForMyMembership } from "../harness/membership.ts";

const MUNICIPALITY = { id: "a", name: "Gemeente A", bot_localpart: "gemeente_a" };
const NEIGHBOUR = { id: "b", name: "Gemeente B", bot_localpart: "gemeente_b" };
const SLOW = 120_000;

let fed: Federation | undefined;
let ana: TestUser, bram: TestUser, carol: TestUser, dora: TestUser, citizen: TestUser;
const users: TestUser[] = [];
const server = (label: string): FederatedServer => {
  if (!fed) throw new Error("the federation is not running");
  return fed.server(label);
};

/** The federation config of A's Loket: one room shared with the given servers and staff. */
function federationConfig(name: string, servers: string[], staff: string[]): Record<string, unknown> {
  return { federation: { rooms: [{ id: "regio", name, owner: "a", servers, staff }] } };
}

async function indexedRooms(): Promise<{ id: string; room_id: string }[]> {
  return server("a").loket.database.query<{ id: string; room_id: string }>("SELECT id, room_id FROM federation_rooms ORDER BY id");
}

async function roomId(): Promise<string> {
  const [row] = await indexedRooms();
  if (!row) throw new Error("no inter-government room in the index");
  return row.room_id;
}

/** The room's current state as hs-a has it (event id and content per type). */
async function stateOnA(id: string): Promise<Map<string, { eventId: string; content: Record<string, unknown> }>> {
  const events = await ana.client.roomState(id);
  return new Map(events.filter((e) => e.state_key === "").map((e) => [e.type, { eventId: e.event_id, content: e.content }]));
}

beforeAll(async () => {
  fed = await startFederation([{ label: "a", municipalities: [MUNICIPALITY] }, { label: "b", municipalities: [NEIGHBOUR] }, { label: "c" }]);
  const made = await Promise.all([
    newUser(server("a").synapse, "ana"), newUser(server("b").synapse, "bram"), newUser(server("c").synapse, "carol"),
    newUser(server("c").synapse, "dora"), newUser(server("b").synapse, "burger"),
  ]);
  users.push(...made);
  [ana, bram, carol, dora, citizen] = made;
  const lokets = await Promise.all([
    server("a").startLoket(federationConfig("Regio-overleg", [server("b").host], [ana.userId, bram.userId])),
    // B's Loket owns a room of its own, with A's staff in it.
    server("b").startLoket({ federation: { rooms: [{ id: "buren", name: "Burenoverleg", owner: "b", servers: [server("a").host], staff: [bram.userId, ana.userId] }] } }),
  ]);
  await Promise.all(lokets.map((l) => l.started()));
}, 300_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === "fail") fed?.keepData();
});

afterAll(async () => {
  for (const u of users) u.client.stopClient();
  await fed?.stop();
}, 120_000);

describe("federation between governments", () => {
  it("staff on B join the inter-government room owned by A's Loket and talk with A's staff", async () => {
    const id = await roomId();
    const bot = server("a").userId(MUNICIPALITY.bot_localpart);
    await Promise.all([waitForMyMembership(bram.client, id, "invite"), waitForMyMembership(ana.client, id, "invite")]);
    await bram.client.joinRoom(id);
    await ana.client.joinRoom(id);

    await ana.client.sendTextMessage(id, "Overleg om tien uur?");
    expect((await waitForEvent(bram.client, id, (ev) => ev.getContent().body === "Overleg om tien uur?")).getSender()).toBe(ana.userId);
    await bram.client.sendTextMessage(id, "Prima, tot dan.");
    expect((await waitForEvent(ana.client, id, (ev) => ev.getContent().body === "Prima, tot dan.")).getSender()).toBe(bram.userId);

    const state = await stateOnA(id);
    expect(state.get("m.room.server_acl")?.content).toEqual({
      allow: [server("a").host, server("a").serverName, server("b").host], deny: [], allow_ip_literals: false,
    });
    expect(state.get("nl.loket.room")?.content).toEqual({ kind: "intergov", municipality: "a", id: "regio" });
    expect(state.get("m.room.name")?.content).toEqual({ name: "Regio-overleg" });
    const power = state.get("m.room.power_levels")?.content as { users: Record<string, number> };
    expect(power.users).toMatchObject({ [ana.userId]: 50, [bram.userId]: 50 });
    // The bot created the room: 100 in older room versions, above every level from version 12.
    const create = (await ana.client.roomState(id)).find((e) => e.type === "m.room.create");
    expect(create?.sender).toBe(bot);
    if (power.users[bot] === undefined) expect(Number(create?.content.room_version)).toBeGreaterThanOrEqual(12);
    else expect(power.users[bot]).toBe(100);
  }, SLOW);

  it("two Lokets on two homeservers each own a room that the other's staff join", async () => {
    const [row] = await server("b").loket.database.query<{ room_id: string }>("SELECT room_id FROM federation_rooms WHERE id = 'buren'");
    const id = row?.room_id ?? "";
    await Promise.all([waitForMyMembership(ana.client, id, "invite"), waitForMyMembership(bram.client, id, "invite")]);
    await bram.client.joinRoom(id);
    await ana.client.joinRoom(id);
    await ana.client.sendTextMessage(id, "Goedemorgen buren");
    expect((await waitForEvent(bram.client, id, (ev) => ev.getContent().body === "Goedemorgen buren")).getSender()).toBe(ana.userId);
    const acl = await ana.client.getStateEvent(id, "m.room.server_acl", "");
    expect(acl).toEqual({ allow: [server("b").host, server("b").serverName, server("a").host], deny: [], allow_ip_literals: false });
  }, SLOW);

  it("a server not on the list cannot take part: the ACL stops it", async () => {
    const id = await roomId();
    // A's staff may invite (power 50), and hs-c receives the invite...
    await ana.client.invite(id, carol.userId);
    await waitForMyMembership(carol.client, id, "invite");
    // ...but the servers in the room refuse to let hs-c's join event in.
    const refused = await carol.client.joinRoom(id).then(() => undefined, (err: unknown) => err);
    // Synapse's ACL check (check_server_matches_acl) answers the make_join of hs-c.
    expect(refused).toMatchObject({ httpStatus: 403, data: { errcode: "M_FORBIDDEN", error: "Server is banned from room" } });
    expect(carol.client.getRoom(id)?.getMyMembership()).not.toBe("join");
  }, SLOW);

  it("a citizen on B opens a DM with A's municipality bot and gets a conversation with a reference", async () => {
    const bot = server("a").userId(MUNICIPALITY.bot_localpart);
    const dm = await openDm(citizen, bot);
    const first = await waitForMessageFrom(citizen.client, dm, bot);
    const body = String(first.getContent().body);
    const reference = /A-\d{4}-\d{6}/.exec(body)?.[0] ?? "no reference";
    const intro = t("nl", "welcome_intro", { name: MUNICIPALITY.name });
    expect(first.getContent()).toMatchObject({ msgtype: "m.notice", body: t("nl", "first_message", { intro, name: MUNICIPALITY.name, reference }) });
  }, SLOW);

  it("a restart with the same config creates and writes nothing", async () => {
    const id = await roomId();
    const before = await stateOnA(id);
    const loket = await server("a").startLoket(federationConfig("Regio-overleg", [server("b").host], [ana.userId, bram.userId]));
    await loket.started();
    expect(await indexedRooms()).toEqual([{ id: "regio", room_id: id }]);
    const after = await stateOnA(id);
    for (const type of ["m.room.server_acl", "m.room.power_levels", "m.room.name", "nl.loket.room"]) {
      expect(after.get(type)?.eventId, type).toBe(before.get(type)?.eventId);
    }
  }, SLOW);

  it("at the next start the name, the ACL and the members follow a config change", async () => {
    const id = await roomId();
    const [a, b, c] = [server("a"), server("b"), server("c")];
    const loket = await a.startLoket(federationConfig("Regio-overleg Utrecht", [b.host, c.host], [ana.userId, dora.userId]));
    await loket.started();
    expect(await indexedRooms()).toEqual([{ id: "regio", room_id: id }]);

    // bram is taken out of config: kicked. dora (on hs-c, now listed) is invited and can join.
    await waitForMyMembership(bram.client, id, "leave");
    await waitForMyMembership(dora.client, id, "invite");
    await dora.client.joinRoom(id);
    await dora.client.sendTextMessage(id, "Hallo vanuit C");
    expect((await waitForEvent(ana.client, id, (ev) => ev.getContent().body === "Hallo vanuit C")).getSender()).toBe(dora.userId);

    const state = await stateOnA(id);
    expect(state.get("m.room.server_acl")?.content).toEqual({ allow: [a.host, a.serverName, b.host, c.host], deny: [], allow_ip_literals: false });
    expect(state.get("m.room.name")?.content).toEqual({ name: "Regio-overleg Utrecht" });
    const power = state.get("m.room.power_levels")?.content as { users: Record<string, number> };
    expect(power.users[dora.userId]).toBe(50);
    expect(power.users[bram.userId]).toBeUndefined();
  }, SLOW);
});
