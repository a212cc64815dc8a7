// Citizen conversations on a real Synapse: a DM and !gesprek each give one conversation with a
// reference; a second attempt brings the citizen back; the department is told; !neem brings
// staff in and the citizen is told who; commands, languages and refusals; reopening.
import { EventType, MsgType, Preset } from "matrix-js-sdk";
import { beforeAll, describe, expect, it } from "vitest";
import { createConversation } from "../../src/conversations/store.ts";
import { newUser, openDm, roomMessages, waitForEvent, waitForMessageFrom, type TestUser } from "../harness/client.ts";
import { inboxEvents } from "../harness/inbox.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually } from "../harness/wait.ts";

const fixture = useStack();
const bot = `@gemeente_testdorp:${SERVER_NAME}`;
const REF = /TEST-\d{4}-\d{6}/;
let staff: TestUser;
let departmentRoom: string;

beforeAll(async () => {
  staff = await newUser(fixture.stack.synapse, "medewerker", { exact: true });
  await staff.client.setDisplayName("Mevrouw Jansen");
  await fixture.stack.loket.started();
  departmentRoom = (await staff.client.getRoomIdForAlias(`#loket_test_afdeling_burgerzaken:${SERVER_NAME}`)).room_id;
  await eventually(() => staff.client.joinRoom(departmentRoom).then(() => true), "the staff member's invite");
});

const botSays = (user: TestUser, roomId: string, match: RegExp) =>
  waitForEvent(user.client, roomId, (ev) => ev.getSender() === bot && ev.getType() === "m.room.message" && match.test(String(ev.getContent().body)));

/** Sends text and waits for the bot's answer to it (the first bot message after it). */
async function ask(user: TestUser, roomId: string, body: string): Promise<string> {
  const { event_id: sent } = await user.client.sendEvent(roomId, EventType.RoomMessage, { msgtype: MsgType.Text, body });
  const answer = await waitForEvent(user.client, roomId, (ev) => {
    if (ev.getSender() !== bot || ev.getType() !== "m.room.message") return false;
    const events = user.client.getRoom(roomId)?.getLiveTimeline().getEvents() ?? [];
    return events.findIndex((e) => e.getId() === sent) < events.indexOf(ev);
  });
  return String(answer.getContent().body);
}

let reference = "";
let dm = "";

describe("a conversation from a DM", () => {
  it("is the DM itself, with one first message: who, the reference, the Archiefwet, !help", async () => {
    const { citizen } = fixture;
    dm = await openDm(citizen, bot);
    const first = await waitForMessageFrom(citizen.client, dm, bot);
    const body = String(first.getContent().body);
    expect(first.getContent().msgtype).toBe("m.notice");
    expect(body).toMatch(/^Welkom bij Gemeente Testdorp\./);
    expect(body).toMatch(/Archiefwet/);
    expect(body).toMatch(/!help/);
    reference = REF.exec(body)?.[0] ?? "";
    expect(reference).toMatch(/^TEST-\d{4}-000001$/);
    expect(await citizen.client.getStateEvent(dm, "nl.loket.room", "")).toEqual({ kind: "conversation", municipality: "test", reference, status: "open", department: "burgerzaken" });
    await fixture.stack.loket.idle();
    const fromBot = (await roomMessages(citizen.client, dm)).filter((e) => e.sender === bot && e.type === "m.room.message");
    expect(fromBot).toHaveLength(1);
  });

  it("is announced in the department room with the reference and a matrix.to link", async () => {
    const notice = await botSays(staff, departmentRoom, new RegExp(reference));
    expect(String(notice.getContent().body)).toContain(`https://matrix.to/#/${dm}?via=${SERVER_NAME}`);
    expect(String(notice.getContent().body)).toContain(`!neem ${reference}`);
  });

  it("a second DM brings the citizen back to the open conversation", async () => {
    const again = await openDm(fixture.citizen, bot);
    const back = await waitForMessageFrom(fixture.citizen.client, again, bot);
    expect(String(back.getContent().body)).toContain(`U heeft al een open gesprek met Gemeente Testdorp (kenmerk ${reference})`);
    const rows = await fixture.stack.loket.database.query("SELECT reference FROM conversations WHERE citizen = $1", [fixture.citizen.userId]);
    expect(rows).toEqual([{ reference }]);
  });

  it("commands: help by role and room, a polite refusal of staff commands, the language, case-insensitive", async () => {
    const { citizen } = fixture;
    const help = await ask(citizen, dm, "!HELP");
    expect(help).toContain("!taal nl|en");
    expect(help).not.toContain("!neem");
    expect(await ask(citizen, dm, `!neem ${reference}`)).toMatch(/alleen voor medewerkers/);
    expect(await ask(citizen, dm, "!onzin")).toMatch(/ken ik niet/);
    expect(await ask(citizen, dm, "!Taal en")).toBe("The conversation continues in English.");
    expect(await ask(citizen, dm, "!help")).toMatch(/^What you can do here:/);
    expect(await ask(citizen, dm, "!taal nl")).toBe("Het gesprek gaat verder in het Nederlands.");
    expect(await ask(staff, departmentRoom, "!help")).toContain("!neem KENMERK");
  });

  it("!neem brings the staff member in with power 50; the citizen is told who joined", async () => {
    const answer = await ask(staff, departmentRoom, `!neem ${reference.toLowerCase()}`);
    expect(answer).toContain(`gesprek ${reference}`);
    await eventually(() => staff.client.joinRoom(dm).then(() => true), "the invite to the conversation");
    const told = await botSays(fixture.citizen, dm, /Mevrouw Jansen van Gemeente Testdorp/);
    expect(told.getContent().msgtype).toBe("m.notice");
    const power = await fixture.citizen.client.getStateEvent(dm, "m.room.power_levels", "") as { users: Record<string, number> };
    expect(power.users[staff.userId]).toBe(50);
    const [row] = await fixture.stack.loket.database.query<{ assigned: string }>("SELECT assigned FROM conversations WHERE reference = $1", [reference]);
    expect(JSON.parse(row?.assigned ?? "[]")).toEqual([staff.userId]);
  });

  it("is never answered in an m.notice", async () => {
    const { event_id: eventId } = await fixture.citizen.client.sendEvent(dm, EventType.RoomMessage, { msgtype: MsgType.Notice, body: "!help" });
    await eventually(async () => ((await inboxEvents(fixture.stack.loket.database)).some((r) => r.event.event_id === eventId) ? true : undefined), "the notice to reach Loket");
    await fixture.stack.loket.idle();
    const after = (await roomMessages(fixture.citizen.client, dm)).map((e) => e.content.body);
    expect(after.at(-1)).toBe("!help");
  });

  it("a closed conversation opens again when the citizen writes in it", async () => {
    // Closing is the office-hours issue's !sluiten; here the database says so.
    await fixture.stack.loket.database.query("UPDATE conversations SET status = 'closed' WHERE reference = $1", [reference]);
    expect(await ask(fixture.citizen, dm, "Ik heb nog een vraag")).toMatch(new RegExp(`Uw gesprek ${reference} is weer geopend`));
    expect(await fixture.citizen.client.getStateEvent(dm, "nl.loket.room", "")).toMatchObject({ reference, status: "open" });
    await botSays(staff, departmentRoom, new RegExp(`Gesprek ${reference} is heropend`));
  });
});

describe("a conversation in a room of Loket's own", () => {
  it("!gesprek in the service desk invites the citizen to a new conversation; !start again brings them back", async () => {
    const citizen = await newUser(fixture.stack.synapse, "balie");
    const desk = (await citizen.client.getRoomIdForAlias(`#loket_test_balie:${SERVER_NAME}`)).room_id;
    await citizen.client.joinRoom(desk);
    expect(await ask(citizen, desk, "!Gesprek")).toMatch(/uitgenodigd voor een besloten gesprek/);
    const [row] = await fixture.stack.loket.database.query<{ room_id: string; reference: string }>("SELECT room_id, reference FROM conversations WHERE citizen = $1", [citizen.userId]);
    if (!row) throw new Error("no conversation recorded");
    await citizen.client.joinRoom(row.room_id);
    const first = await waitForMessageFrom(citizen.client, row.room_id, bot);
    expect(String(first.getContent().body)).toContain(row.reference);
    expect(await citizen.client.getStateEvent(row.room_id, "nl.loket.room", "")).toEqual({ kind: "conversation", municipality: "test", reference: row.reference, status: "open", department: "burgerzaken" });
    expect(await ask(citizen, desk, "!start")).toContain(`https://matrix.to/#/${row.room_id}`);
    citizen.client.stopClient();
  });

  it("a DM where the bot lacks power leads to a room of Loket's own, and the DM says where to go", async () => {
    const citizen = await newUser(fixture.stack.synapse, "zwak");
    const { room_id: weakDm } = await citizen.client.createRoom({ is_direct: true, invite: [bot], preset: Preset.PrivateChat });
    const moved = await waitForMessageFrom(citizen.client, weakDm, bot);
    expect(String(moved.getContent().body)).toMatch(/apart gesprek voor u geopend \(kenmerk TEST-\d{4}-\d{6}\)/);
    const [row] = await fixture.stack.loket.database.query<{ room_id: string }>("SELECT room_id FROM conversations WHERE citizen = $1", [citizen.userId]);
    if (!row) throw new Error("no conversation recorded");
    expect(String(moved.getContent().body)).toContain(row.room_id);
    await citizen.client.joinRoom(row.room_id);
    expect(String((await waitForMessageFrom(citizen.client, row.room_id, bot)).getContent().body)).toMatch(/^Welkom bij Gemeente Testdorp\./);
    citizen.client.stopClient();
  });
});

describe("what the citizen did in a new DM before the bot joined", () => {
  it("is read back after the join: the room's creation and the first question are archived once, and the question is queued", async () => {
    const citizen = await newUser(fixture.stack.synapse, "snel");
    // Loket is down, so that all of this surely comes before the bot's join (as it usually does
    // anyway: Element sends the first message as soon as the room is made). Then the join rule
    // is public for a moment: history that must not make the bot leave a room direct now.
    await fixture.stack.stopLoket();
    const { room_id: room } = await citizen.client.createRoom({ is_direct: true, invite: [bot], preset: Preset.TrustedPrivateChat });
    const { event_id: question } = await citizen.client.sendEvent(room, EventType.RoomMessage, { msgtype: MsgType.Text, body: "Wanneer wordt het grofvuil opgehaald?" });
    await citizen.client.sendStateEvent(room, "m.room.join_rules" as never, { join_rule: "public" } as never, "");
    await citizen.client.sendStateEvent(room, "m.room.join_rules" as never, { join_rule: "invite" } as never, "");
    await fixture.stack.restartLoket();
    const db = fixture.stack.loket.database;
    const greeting = await waitForMessageFrom(citizen.client, room, bot);
    const ref = REF.exec(String(greeting.getContent().body))?.[0];
    expect(ref).toBeDefined();
    await eventually(async () => ((await db.query("SELECT 1 FROM archive_records WHERE event_id = $1", [question])).length > 0 ? true : undefined), "the question in the archive");
    await fixture.stack.loket.idle();
    const timeline = await roomMessages(citizen.client, room);
    const joined = timeline.findIndex((e) => e.type === "m.room.member" && e.state_key === bot && e.content.membership === "join");
    const before = timeline.slice(0, joined).filter((e) => e.type !== "m.room.member" || e.state_key !== bot);
    expect(before.map((e) => e.event_id)).toContain(question);
    expect(before.map((e) => e.type)).toEqual(expect.arrayContaining(["m.room.create", "m.room.power_levels", "m.room.history_visibility", "m.room.join_rules"]));
    // Never pushed (no user of Loket's was in the room), now archived, each once, the question
    // with the conversation's reference.
    const archived = await db.query<{ event_id: string; reference: string | null }>(
      "SELECT event_id, reference FROM archive_records WHERE room_id = $1 AND event_id = ANY($2::text[])", [room, before.map((e) => e.event_id)]);
    expect(archived.map((r) => r.event_id).sort()).toEqual(before.map((e) => e.event_id).sort());
    expect(archived.filter((r) => r.event_id === question)).toEqual([{ event_id: question, reference: ref }]);
    // The question starts the queue's term, as any later one would.
    expect(await db.query("SELECT answer FROM queue_questions WHERE event_id = $1", [question])).toHaveLength(1);
    // Read back once, as one transaction named after the invite.
    const stored = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM inbox_transactions WHERE txn_id LIKE 'loket-missed:%' AND position($1::bytea IN body) > 0", [Buffer.from(question)]);
    expect(stored).toEqual([{ n: 1 }]);
    // The public moment is history: the room is direct now, and the bot stays.
    expect(Object.keys((await citizen.client.getJoinedRoomMembers(room)).joined)).toContain(bot);
    expect(await db.query("SELECT left_at FROM direct_rooms WHERE room_id = $1", [room])).toEqual([{ left_at: null }]);
    citizen.client.stopClient();
  });
});

describe("reference numbers", () => {
  it("have no gaps and no duplicates under concurrency; a second open conversation is refused", async () => {
    const db = fixture.stack.loket.database;
    const make = (citizen: string) => createConversation(db, { municipality: "race", prefix: "RACE", citizen, roomId: null, dmRoomId: null, department: "", language: "nl", year: 2030 });
    const made = await Promise.all(Array.from({ length: 40 }, (_, i) => make(`@c${i}:x`)));
    const numbers = made.map((c) => Number(c?.reference.slice(-6))).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const twice = await Promise.all([make("@same:x"), make("@same:x"), make("@same:x")]);
    expect(twice.filter((c) => c !== undefined)).toHaveLength(1);
    expect((await make("@next:x"))?.reference).toBe("RACE-2030-000042");
  });
});
