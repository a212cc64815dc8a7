// Municipalities and their rooms on a real Synapse: two municipalities get a space, a published
// service desk and department rooms with aliases, power levels and nl.loket.room; restarts change
// nothing; a config change is reconciled at the next start; a bot that loses a room is counted.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Preset, Visibility } from "matrix-js-sdk";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../harness/paths.ts";
import { newUser, roomMessages, waitForEvent, type TestUser } from "../harness/client.ts";
import { SERVER_NAME, TEST_MUNICIPALITY } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually, metricValue } from "../harness/wait.ts";

const ANDERS = {
  id: "anders",
  name: "Gemeente Anderstad",
  bot_localpart: "gemeente_anderstad",
  reference_prefix: "AND",
  departments: [{ id: "vergunningen", name: "Vergunningen", staff: [`@collega:${SERVER_NAME}`] }],
};
const TESTDORP = {
  ...TEST_MUNICIPALITY,
  departments: [{ id: "burgerzaken", name: "Burgerzaken", staff: [`@medewerker:${SERVER_NAME}`, `@oud:${SERVER_NAME}`] }],
};
const fixture = useStack(() => ({ municipalities: [TESTDORP, ANDERS] }));
const alias = (localpart: string): string => `#${localpart}:${SERVER_NAME}`;
const metrics = async (): Promise<string> => (await fetch(`${fixture.stack.loket.url}/metrics`)).text();
const staff: Record<string, TestUser> = {};

beforeAll(async () => {
  for (const name of ["medewerker", "oud", "nieuw", "collega"]) staff[name] = await newUser(fixture.stack.synapse, name, { exact: true });
  await fixture.stack.loket.started();
});
afterAll(() => { for (const s of Object.values(staff)) s.client.stopClient(); });

const user = (name: string): TestUser => {
  const u = staff[name];
  if (!u) throw new Error(`no staff user ${name}`);
  return u;
};

/** Joins once invited (a private room refuses the join until then). */
async function joinOnInvite(u: TestUser, roomId: string): Promise<void> {
  await eventually(() => u.client.joinRoom(roomId).then(() => true), `${u.userId} to be invited to ${roomId}`);
}

describe("municipalities and their rooms", () => {
  it("each municipality has a space, a published service desk and department rooms, with aliases and nl.loket.room", async () => {
    const { citizen } = fixture;
    for (const [id, stem, dep] of [["test", "loket_test", "burgerzaken"], ["anders", "loket_anders", "vergunningen"]] as const) {
      const space = (await citizen.client.getRoomIdForAlias(alias(stem))).room_id;
      const desk = (await citizen.client.getRoomIdForAlias(alias(`${stem}_balie`))).room_id;
      const department = (await citizen.client.getRoomIdForAlias(alias(`${stem}_afdeling_${dep}`))).room_id;
      // The service desk and the space are joinable by anyone; the desk says what it is for.
      await citizen.client.joinRoom(desk);
      await citizen.client.joinRoom(space);
      expect(await citizen.client.getStateEvent(desk, "nl.loket.room", "")).toEqual({ kind: "service_desk", municipality: id });
      expect(await citizen.client.getStateEvent(space, "nl.loket.room", "")).toEqual({ kind: "space", municipality: id });
      expect((await citizen.client.getStateEvent(desk, "m.room.topic", "")).topic).toMatch(/Archiefwet/);
      expect(await citizen.client.getStateEvent(space, "m.room.create", "")).toMatchObject({ type: "m.space" });
      expect(await citizen.client.getStateEvent(space, "m.space.child", desk)).toMatchObject({ via: [SERVER_NAME] });
      // Citizens cannot join a department room.
      await expect(citizen.client.joinRoom(department)).rejects.toThrow();
    }
    const published = await fixture.citizen.client.publicRooms({ limit: 100 });
    const ids = published.chunk.map((r) => r.room_id);
    const testDesk = (await citizen.client.getRoomIdForAlias(alias("loket_test_balie"))).room_id;
    const andersDesk = (await citizen.client.getRoomIdForAlias(alias("loket_anders_balie"))).room_id;
    expect(ids).toEqual(expect.arrayContaining([testDesk, andersDesk]));
    expect(ids).toHaveLength(2);
  });

  it("staff are invited to their department room, with power 50; the bot is the room's creator", async () => {
    const medewerker = user("medewerker");
    const department = (await medewerker.client.getRoomIdForAlias(alias("loket_test_afdeling_burgerzaken"))).room_id;
    await joinOnInvite(medewerker, department);
    expect(await medewerker.client.getStateEvent(department, "nl.loket.room", "")).toEqual({ kind: "department", municipality: "test", department: "burgerzaken" });
    const power = await medewerker.client.getStateEvent(department, "m.room.power_levels", "");
    expect(power.users).toEqual({ [`@medewerker:${SERVER_NAME}`]: 50, [`@oud:${SERVER_NAME}`]: 50 });
    expect(power.users_default).toBe(0);
    const create = await medewerker.client.getStateEvent(department, "m.room.create", "");
    expect(create.room_version).toBe("12");
    const createEvent = (await roomMessages(medewerker.client, department)).find((e) => e.type === "m.room.create");
    expect(createEvent?.sender).toBe(`@gemeente_testdorp:${SERVER_NAME}`);
    await joinOnInvite(user("oud"), department);
  });

  it("ten restarts create and write nothing", async () => {
    const medewerker = user("medewerker");
    const department = (await medewerker.client.getRoomIdForAlias(alias("loket_test_afdeling_burgerzaken"))).room_id;
    const eventsBefore = (await roomMessages(medewerker.client, department)).length;
    const rowsBefore = await fixture.stack.loket.database.query("SELECT room_id, applied FROM managed_rooms ORDER BY room_id");
    expect(rowsBefore).toHaveLength(6);
    for (let i = 0; i < 10; i++) {
      await fixture.stack.restartLoket();
      await fixture.stack.loket.started();
    }
    const text = await metrics();
    expect(metricValue(text, 'loket_rooms_reconciled_total{action="unchanged"}')).toBe(6);
    expect(metricValue(text, 'loket_rooms_reconciled_total{action="created"}')).toBe(0);
    expect(metricValue(text, 'loket_rooms_reconciled_total{action="updated"}')).toBe(0);
    expect(await fixture.stack.loket.database.query("SELECT room_id, applied FROM managed_rooms ORDER BY room_id")).toEqual(rowsBefore);
    // Not even the bot's display name was written again (that would add a membership event).
    expect((await roomMessages(medewerker.client, department)).length).toBe(eventsBefore);
  });

  it("a config change is reconciled at the next start; a municipality taken out is left alone", async () => {
    const changed = {
      ...TESTDORP,
      service_desk_topic: "Nieuwe balie-tekst; gesprekken worden gearchiveerd.",
      departments: [
        { id: "burgerzaken", name: "Burgerzaken en Belastingen", staff: [`@medewerker:${SERVER_NAME}`, `@nieuw:${SERVER_NAME}`] },
        { id: "afval", name: "Afval", staff: [`@medewerker:${SERVER_NAME}`] },
      ],
    };
    const medewerker = user("medewerker");
    const department = (await medewerker.client.getRoomIdForAlias(alias("loket_test_afdeling_burgerzaken"))).room_id;
    const desk = (await fixture.citizen.client.getRoomIdForAlias(alias("loket_test_balie"))).room_id;
    await fixture.stack.restartLoket([changed]);
    await fixture.stack.loket.started();

    await joinOnInvite(user("nieuw"), department);
    await waitForEvent(medewerker.client, department, (ev) => ev.getType() === "m.room.member" && ev.getStateKey() === `@oud:${SERVER_NAME}` && ev.getContent().membership === "leave");
    await waitForEvent(medewerker.client, department, (ev) => ev.getType() === "m.room.name" && ev.getContent().name === "Gemeente Testdorp – Burgerzaken en Belastingen");
    const power = await medewerker.client.getStateEvent(department, "m.room.power_levels", "");
    expect(power.users).toEqual({ [`@medewerker:${SERVER_NAME}`]: 50, [`@nieuw:${SERVER_NAME}`]: 50 });
    await waitForEvent(fixture.citizen.client, desk, (ev) => ev.getType() === "m.room.topic" && ev.getContent().topic === changed.service_desk_topic);
    const afval = (await medewerker.client.getRoomIdForAlias(alias("loket_test_afdeling_afval"))).room_id;
    await joinOnInvite(medewerker, afval);
    const text = await metrics();
    expect(metricValue(text, 'loket_rooms_reconciled_total{action="created"}')).toBe(1);
    expect(metricValue(text, 'loket_rooms_reconciled_total{action="updated"}')).toBe(3);
    // Anderstad is no longer configured: its rooms stay, and stay indexed.
    expect((await fixture.citizen.client.getRoomIdForAlias(alias("loket_anders_balie"))).room_id).toMatch(/^!/);
    expect(await fixture.stack.loket.database.query("SELECT room_key FROM managed_rooms WHERE municipality = 'anders'")).toHaveLength(3);
  });

  it("the alias query creates or re-points declared aliases and refuses others", async () => {
    const get = (a: string): Promise<Response> => fetch(`${fixture.stack.loket.url}/_matrix/app/v1/rooms/${encodeURIComponent(a)}`, { headers: { authorization: `Bearer ${fixture.stack.config.appservice.hs_token}` } });
    expect((await get(alias("loket_test_balie"))).status).toBe(200);
    expect((await get(alias("loket_test_afdeling_onbekend"))).status).toBe(404);
  });

  it("a bot that loses power or is kicked is logged and counted", async () => {
    const medewerker = user("medewerker");
    const bot = `@gemeente_testdorp:${SERVER_NAME}`;
    const { room_id: roomId } = await medewerker.client.createRoom({
      preset: Preset.PrivateChat, visibility: Visibility.Private, room_version: "11", invite: [bot],
      power_level_content_override: { users: { [medewerker.userId]: 100, [bot]: 60 } },
    });
    await waitForEvent(medewerker.client, roomId, (ev) => ev.getType() === "m.room.member" && ev.getStateKey() === bot && ev.getContent().membership === "join");
    await medewerker.client.setPowerLevel(roomId, bot, 10);
    await eventually(async () => (metricValue(await metrics(), 'loket_bot_room_losses_total{reason="power"}') === 1 ? true : undefined), "the power loss to be counted");
    await medewerker.client.kick(roomId, bot);
    await eventually(async () => (metricValue(await metrics(), 'loket_bot_room_losses_total{reason="kicked"}') === 1 ? true : undefined), "the kick to be counted");
  });

  it("loket rooms lists the managed rooms, as text and as the JSON contract says", async () => {
    const { stack } = fixture;
    await stack.stopLoket(); // the embedded store takes one process at a time
    const file = join(stack.dataDir, "rooms-config.yaml");
    writeFileSync(file, YAML.stringify(stack.config));
    const run = (...args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, "bin/loket.js"), "rooms", "-c", file, ...args], { encoding: "utf8" });
    const json = run("--json");
    expect(json.status).toBe(0);
    const list = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(list).toHaveLength(7);
    expect(list).toContainEqual({ municipality: "test", kind: "department", department: "afval", alias: alias("loket_test_afdeling_afval"), name: "Gemeente Testdorp – Afval", room_id: expect.stringMatching(/^!/) as unknown });
    expect(list).toContainEqual({ municipality: "anders", kind: "service_desk", alias: alias("loket_anders_balie"), name: "Gemeente Anderstad – Digitale balie", room_id: expect.stringMatching(/^!/) as unknown });
    const text = run();
    expect(text.stdout).toContain("anders (no longer in the config; left as it is)");
    expect(text.stdout).toMatch(/department burgerzaken\s+#loket_test_afdeling_burgerzaken:loket.test\s+!/);
    await stack.restartLoket();
  });
});
