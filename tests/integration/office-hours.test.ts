// Office hours and the service queue on a real Synapse, with a clock the test moves (never a
// sleep): the closed auto-reply and the open receipt with their times and places, assignment in
// due order up to the per-person maximum, close and reopen, handover, the quiet-period rule,
// escalation when a term passes (once, also after a restart), and input that must crash nothing.
import { EventType, MsgType, type MatrixEvent } from "matrix-js-sdk";
import { beforeAll, describe, expect, it } from "vitest";
import { newUser, openDm, roomMessages, waitForEvent, waitForMessageFrom, type TestUser } from "../harness/client.ts";
import { inboxEvents } from "../harness/inbox.ts";
import { SERVER_NAME, TEST_MUNICIPALITY } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually, metricValue } from "../harness/wait.ts";

const at = (iso: string): Date => new Date(iso);
const clock = { current: at("2026-11-27T17:00:00Z"), now(): Date { return this.current; } };
const id = (name: string): string => `@${name}:${SERVER_NAME}`;
const fixture = useStack(() => ({
  clock,
  conversations: { max_open_per_staff: 1 },
  municipalities: [{
    ...TEST_MUNICIPALITY,
    response_term: { working_hours: 4 },
    coordinator: id("teamleider"),
    departments: [
      { id: "burgerzaken", name: "Burgerzaken", staff: [id("medewerker"), id("collega")] },
      { id: "vergunningen", name: "Vergunningen", staff: [id("medewerker")] },
    ],
  }],
}));
const bot = `@gemeente_testdorp:${SERVER_NAME}`;
const REF = /TEST-\d{4}-\d{6}/;
let staff: TestUser;
let colleague: TestUser;
let coordinator: TestUser;
let citizen2: TestUser;
let citizen3: TestUser;
let citizen4: TestUser;
let citizen5: TestUser;
let department = "";
let permits = "";
const none = { room: "", reference: "" };
const conv: Record<"a" | "b" | "c" | "d" | "e", { room: string; reference: string }> = { a: none, b: none, c: none, d: none, e: none };

const isBotMessage = (ev: MatrixEvent): boolean => ev.getSender() === bot && ev.getType() === "m.room.message";
const metric = async (sample: string): Promise<number> => metricValue(await (await fetch(`${fixture.stack.loket.url}/metrics`)).text(), sample);

async function send(user: TestUser, roomId: string, content: Record<string, unknown>): Promise<string> {
  return (await user.client.sendEvent(roomId, EventType.RoomMessage, content as never)).event_id;
}

/** Waits until Loket has processed the event (it arrived and every handler ran). */
async function processed(eventId: string): Promise<void> {
  await eventually(async () => ((await inboxEvents(fixture.stack.loket.database)).some((r) => r.event.event_id === eventId && r.processed) ? true : undefined), `Loket processing ${eventId}`);
  await fixture.stack.loket.idle();
}

/** The bot's messages after the given event, as the server has them. */
async function botMessagesAfter(user: TestUser, roomId: string, eventId: string): Promise<Record<string, unknown>[]> {
  const res = await user.client.createMessagesRequest(roomId, null, 100, "f" as never);
  const index = res.chunk.findIndex((e) => e.event_id === eventId);
  return res.chunk.slice(index + 1).filter((e) => e.sender === bot && e.type === "m.room.message").map((e) => e.content);
}

/** Sends text and returns the bot's one answer to it (failing when there is none or more than one). */
async function ask(user: TestUser, roomId: string, body: string): Promise<Record<string, unknown>> {
  const sent = await send(user, roomId, { msgtype: MsgType.Text, body });
  await processed(sent);
  const answers = await botMessagesAfter(user, roomId, sent);
  expect(answers, `answers to "${body}"`).toHaveLength(1);
  return answers[0] ?? {};
}

const botSays = (user: TestUser, roomId: string, match: RegExp): Promise<MatrixEvent> =>
  waitForEvent(user.client, roomId, (ev) => isBotMessage(ev) && match.test(String(ev.getContent().body)));

async function joinDepartment(user: TestUser, alias: string): Promise<string> {
  const roomId = (await user.client.getRoomIdForAlias(`#loket_test_afdeling_${alias}:${SERVER_NAME}`)).room_id;
  await eventually(() => user.client.joinRoom(roomId).then(() => true), `${user.userId} joining ${alias}`);
  return roomId;
}

/** A citizen opens a DM with the bot and gets the greeting; returns the room and reference. */
async function openConversation(user: TestUser): Promise<{ room: string; reference: string }> {
  const room = await openDm(user, bot);
  const first = await waitForMessageFrom(user.client, room, bot);
  return { room, reference: REF.exec(String(first.getContent().body))?.[0] ?? "" };
}

beforeAll(async () => {
  staff = await newUser(fixture.stack.synapse, "medewerker", { exact: true });
  colleague = await newUser(fixture.stack.synapse, "collega", { exact: true });
  coordinator = await newUser(fixture.stack.synapse, "teamleider", { exact: true });
  citizen2 = await newUser(fixture.stack.synapse, "burger");
  citizen3 = await newUser(fixture.stack.synapse, "burger");
  citizen4 = await newUser(fixture.stack.synapse, "burger");
  citizen5 = await newUser(fixture.stack.synapse, "burger");
  await staff.client.setDisplayName("Mevrouw Jansen");
  await colleague.client.setDisplayName("Meneer de Vries");
  await fixture.stack.loket.started();
  department = await joinDepartment(staff, "burgerzaken");
  await joinDepartment(colleague, "burgerzaken");
  permits = await joinDepartment(staff, "vergunningen");
});

describe("what the citizen is told", () => {
  it("outside hours: one auto-reply with the next opening, the due time and the reference (Friday 18:00, 4 working hours)", async () => {
    conv.a = await openConversation(fixture.citizen);
    const reply = await ask(fixture.citizen, conv.a.room, "Hallo, ik wil een paspoort aanvragen.");
    expect(reply.msgtype).toBe("m.notice");
    expect(reply.body).toBe(`We zijn nu gesloten. Vanaf maandag 30 november 09:00 zijn we er weer. U krijgt uiterlijk maandag 30 november 13:00 antwoord. Uw referentie: ${conv.a.reference}.`);
    expect(reply.format).toBe("org.matrix.custom.html");
    expect(reply.formatted_body).toContain("<strong>maandag 30 november 13:00</strong>");
    expect(await metric('loket_auto_replies_total{kind="closed"}')).toBe(1);
  });

  it("a second message soon after gets no answer: one answer per question", async () => {
    const sent = await send(fixture.citizen, conv.a.room, { msgtype: MsgType.Text, body: "Ik heb ook een vraag over mijn rijbewijs." });
    await processed(sent);
    expect(await botMessagesAfter(fixture.citizen, conv.a.room, sent)).toEqual([]);
  });

  it("inside hours: a receipt with the place in the queue and the promised time (Monday 10:00)", async () => {
    clock.current = at("2026-11-30T09:00:00Z");
    conv.b = await openConversation(citizen2);
    const reply = await ask(citizen2, conv.b.room, "Wanneer wordt het grofvuil opgehaald?");
    expect(reply.body).toBe(`Bedankt voor uw bericht. U bent nummer 2 in de wachtrij. U krijgt uiterlijk maandag 30 november 14:00 antwoord. Uw referentie: ${conv.b.reference}.`);
    conv.c = await openConversation(citizen3);
    clock.current = at("2026-11-30T09:30:00Z");
    expect((await ask(citizen3, conv.c.room, "Mijn buren maken veel lawaai.")).body).toMatch(/U bent nummer 3 in de wachtrij\. U krijgt uiterlijk maandag 30 november 14:30 antwoord\./);
  });

  it("!status shows the reference, the status, the place and the promised time; in English after !taal en", async () => {
    expect((await ask(citizen3, conv.c.room, "!status")).body).toBe(`Gesprek ${conv.c.reference}: open.\nU bent nummer 3 in de wachtrij.\nU krijgt uiterlijk maandag 30 november 14:30 antwoord.`);
    await ask(citizen3, conv.c.room, "!taal en");
    expect((await ask(citizen3, conv.c.room, "!status")).body).toBe(`Conversation ${conv.c.reference}: open.\nYou are number 3 in the queue.\nYou will get an answer by Monday 30 November 14:30.`);
  });
});

describe("queue and staff", () => {
  it("!wachtrij shows the queue in due order and that nobody is on duty", async () => {
    const body = String((await ask(staff, department, "!wachtrij")).body);
    expect(body.split("\n")).toEqual([
      "Wachtrij van Burgerzaken:",
      `- ${conv.a.reference}: antwoord uiterlijk maandag 30 november 13:00`,
      `- ${conv.b.reference}: antwoord uiterlijk maandag 30 november 14:00`,
      `- ${conv.c.reference}: antwoord uiterlijk maandag 30 november 14:30`,
      "Niemand is in dienst. Meld je met !dienst aan.",
    ]);
  });

  it("going on duty assigns the earliest due first, up to the maximum per person; the citizen and the room are told", async () => {
    await send(staff, department, { msgtype: MsgType.Text, body: "!dienst aan" });
    await botSays(staff, department, /^Mevrouw Jansen is nu in dienst voor Burgerzaken\.$/);
    await botSays(staff, department, new RegExp(`Gesprek ${conv.a.reference} is toegewezen aan Mevrouw Jansen`));
    await botSays(fixture.citizen, conv.a.room, /Mevrouw Jansen van Gemeente Testdorp helpt u met uw vraag/);
    await eventually(() => staff.client.joinRoom(conv.a.room).then(() => true), "the assigned staff member's invite");
    await botSays(fixture.citizen, conv.a.room, /Mevrouw Jansen van Gemeente Testdorp is bij uw gesprek gekomen/);
    await send(colleague, department, { msgtype: MsgType.Text, body: "!dienst aan" });
    await botSays(citizen2, conv.b.room, /Meneer de Vries van Gemeente Testdorp helpt u/);
    const rows = await fixture.stack.loket.database.query<{ reference: string; assigned: string }>("SELECT reference, assigned FROM conversations ORDER BY id");
    expect(rows).toEqual([
      { reference: conv.a.reference, assigned: JSON.stringify([staff.userId]) },
      { reference: conv.b.reference, assigned: JSON.stringify([colleague.userId]) },
      { reference: conv.c.reference, assigned: "[]" },
    ]);
  });

  it("a staff command from a citizen is refused politely; an unknown command gets the help hint", async () => {
    expect((await ask(fixture.citizen, conv.a.room, "!sluiten")).body).toMatch(/^Dat commando is alleen voor medewerkers van de gemeente\./);
    expect((await ask(fixture.citizen, conv.a.room, "!onzin")).body).toMatch(/Het commando !onzin ken ik niet\. Typ !help/);
    expect(String((await ask(fixture.citizen, conv.a.room, "!help")).body)).toContain("!status");
  });

  it("a staff reply keeps the promise; !sluiten closes, tells the citizen how to reopen, and frees a place", async () => {
    const reply = await send(staff, conv.a.room, { msgtype: MsgType.Text, body: "U kunt online een afspraak maken." });
    await processed(reply);
    const [row] = await fixture.stack.loket.database.query<{ due_at: unknown }>("SELECT due_at FROM conversations WHERE reference = $1", [conv.a.reference]);
    expect(row?.due_at).toBeNull();
    expect((await ask(staff, conv.a.room, "!sluiten")).body).toMatch(/is gesloten\. Heeft u nog een vraag\? Schrijf hier een nieuw bericht/);
    expect(await fixture.citizen.client.getStateEvent(conv.a.room, "nl.loket.room", "")).toMatchObject({ status: "closed" });
    // Closed stays closed, with its closing date (the start of its retention term).
    const [closed] = await fixture.stack.loket.database.query<{ updated_at: Date }>("SELECT updated_at FROM conversations WHERE reference = $1", [conv.a.reference]);
    expect((await ask(staff, conv.a.room, "!sluiten")).body).toBe(`Gesprek ${conv.a.reference} is gesloten; het gaat weer open zodra de inwoner schrijft.`);
    const [still] = await fixture.stack.loket.database.query<{ updated_at: Date }>("SELECT updated_at FROM conversations WHERE reference = $1", [conv.a.reference]);
    expect(still?.updated_at).toEqual(closed?.updated_at);
    // Mevrouw Jansen has room again: the next in line (c) is hers.
    await botSays(citizen3, conv.c.room, /Mevrouw Jansen of Gemeente Testdorp is helping you/);
  });

  it("the citizen writing in a closed conversation reopens it: one answer that says so, and the queue again", async () => {
    const reply = await ask(fixture.citizen, conv.a.room, "Toch nog een vraag.");
    expect(reply.body).toMatch(new RegExp(`^Uw gesprek ${conv.a.reference} is weer geopend\\. Bedankt voor uw bericht\\. U bent nummer 1 in de wachtrij\\.`));
  });

  it("!overdragen to a department moves the conversation, tells that room and the citizen; to a person gives it to them", async () => {
    expect((await ask(colleague, department, "!wachtrij")).body).toContain(conv.a.reference);
    await eventually(() => colleague.client.joinRoom(conv.b.room).then(() => true), "the colleague's invite");
    await botSays(citizen2, conv.b.room, /Meneer de Vries van Gemeente Testdorp is bij uw gesprek gekomen/);
    expect((await ask(colleague, conv.b.room, "!overdragen vergunningen")).body).toBe("Uw gesprek is doorgezet naar Vergunningen. Een medewerker daar helpt u verder.");
    await botSays(staff, permits, new RegExp(`Nieuw gesprek ${conv.b.reference}`));
    // De Vries has room again: the reopened conversation a is his.
    await botSays(fixture.citizen, conv.a.room, /Meneer de Vries van Gemeente Testdorp helpt u/);
    await eventually(() => staff.client.joinRoom(conv.c.room).then(() => true), "the staff member's invite to c");
    await botSays(citizen3, conv.c.room, /Mevrouw Jansen of Gemeente Testdorp has joined/);
    expect((await ask(staff, conv.c.room, `!overdragen ${colleague.userId}`)).body).toBe("Your conversation has been handed over to Meneer de Vries, who will help you further.");
    const [row] = await fixture.stack.loket.database.query<{ assigned: string }>("SELECT assigned FROM conversations WHERE reference = $1", [conv.c.reference]);
    expect(row?.assigned).toBe(JSON.stringify([colleague.userId]));
  });
});

describe("terms", () => {
  it("a message within the quiet period, with the promise still standing, gets no answer", async () => {
    clock.current = at("2026-11-30T10:00:00Z");
    const soon = await send(citizen2, conv.b.room, { msgtype: MsgType.Text, body: "Hallo?" });
    await processed(soon);
    expect(await botMessagesAfter(citizen2, conv.b.room, soon)).toEqual([]);
  });

  it("a missed term escalates once to the department room and the coordinator, and counts", async () => {
    clock.current = at("2026-11-30T13:31:00Z"); // c was due at 14:30 local
    await fixture.stack.loket.runTimers();
    await botSays(staff, department, new RegExp(`Termijn verstreken: gesprek ${conv.c.reference} had uiterlijk maandag 30 november 14:30 antwoord moeten krijgen \\(Meneer de Vries\\)`));
    const invite = await eventually(() => Promise.resolve(coordinator.client.getRooms().find((r) => r.getMyMembership() === "invite")?.roomId), "the coordinator's invite");
    await coordinator.client.joinRoom(invite);
    await botSays(coordinator, invite, new RegExp(`Termijn verstreken bij Burgerzaken: gesprek ${conv.c.reference}`));
    // a (reopened, due 14:30) and c in Burgerzaken, b (due 14:00) in Vergunningen: each counted once.
    expect(await metric('loket_response_terms_missed_total{municipality="test",department="burgerzaken"}')).toBe(2);
    expect(await metric('loket_response_terms_missed_total{municipality="test",department="vergunningen"}')).toBe(1);
    await fixture.stack.loket.runTimers();
    expect(await metric('loket_response_terms_missed_total{municipality="test",department="burgerzaken"}')).toBe(2);
    const [row] = await fixture.stack.loket.database.query<{ overdue: boolean }>("SELECT overdue FROM conversations WHERE reference = $1", [conv.c.reference]);
    expect(row?.overdue).toBe(true);
  });

  it("the quiet-period rule: after 8 hours with no staff reply in between the citizen hears a (new) promise again", async () => {
    clock.current = at("2026-11-30T18:30:00Z");
    // b's promise (14:00) has passed: the citizen gets an honest new one, not a time in the past.
    expect((await ask(citizen2, conv.b.room, "Is er al nieuws?")).body).toMatch(/^We zijn nu gesloten\. Vanaf dinsdag 1 december 09:00 zijn we er weer\. U krijgt uiterlijk dinsdag 1 december 13:00 antwoord\./);
  });

  it("after a restart nothing is assigned or escalated twice", async () => {
    await fixture.stack.restartLoket();
    await fixture.stack.loket.started();
    await fixture.stack.loket.runTimers();
    const marker = await send(staff, department, { msgtype: MsgType.Text, body: "!dienst aan" });
    await processed(marker);
    const all = await roomMessages(staff.client, department);
    const count = (re: RegExp): number => all.filter((e) => e.sender === bot && re.test(String(e.content.body))).length;
    expect(count(new RegExp(`Termijn verstreken: gesprek ${conv.c.reference}`))).toBe(1);
    expect(count(new RegExp(`Gesprek ${conv.a.reference} is toegewezen aan Mevrouw Jansen`))).toBe(1);
    expect(count(new RegExp(`Gesprek ${conv.c.reference} is toegewezen`))).toBe(1);
    expect(await metric('loket_response_terms_missed_total{municipality="test",department="burgerzaken"}')).toBe(0);
  });
});

describe("input that must crash nothing", () => {
  it("notices, edits, HTML-only, empty, very long and non-text messages get no reply and no failure", async () => {
    const room = conv.b.room;
    const original = await send(citizen2, room, { msgtype: MsgType.Text, body: "eerste versie" });
    const sent = [
      await send(citizen2, room, { msgtype: MsgType.Notice, body: "!help" }),
      // An edit whose fallback body is itself a command: still an edit, not a new question.
      await send(citizen2, room, { msgtype: MsgType.Text, body: "!help", "m.new_content": { msgtype: MsgType.Text, body: "!help" }, "m.relates_to": { rel_type: "m.replace", event_id: original } }),
      await send(citizen2, room, { msgtype: MsgType.Text, body: "", format: "org.matrix.custom.html", formatted_body: "<b>alleen html</b>" }),
      await send(citizen2, room, { msgtype: MsgType.Text, body: "" }),
      await send(citizen2, room, { msgtype: MsgType.Text, body: `!status ${"x".repeat(30_000)}` }),
      await send(citizen2, room, { msgtype: MsgType.Location, body: "Stadhuis", geo_uri: "geo:52.09,5.12" }),
      await send(citizen2, room, { msgtype: MsgType.Image, body: "foto.png" }),
    ];
    for (const e of sent) await processed(e);
    const answers = await botMessagesAfter(citizen2, room, sent[0] ?? "");
    // Only the long !status is a command; everything else is a message in a quiet conversation.
    expect(answers.map((a) => String(a.body).split("\n")[0])).toEqual([`Gesprek ${conv.b.reference}: open.`]);
    const failures = await fixture.stack.loket.database.query("SELECT * FROM inbox_failures");
    expect(failures).toEqual([]);
  });
});

describe("more of the queue's rules", () => {
  const row = async (reference: string) => (await fixture.stack.loket.database.query<{ status: string; due_at: Date | null; assigned: string }>(
    "SELECT status, due_at, assigned FROM conversations WHERE reference = $1", [reference]))[0];

  it("outside hours with someone on duty: the auto-reply, then a notice of who will help", async () => {
    clock.current = at("2026-11-30T19:00:00Z"); // Monday 20:00, closed; Mevrouw Jansen is on duty and free
    conv.d = await openConversation(citizen4);
    const sent = await send(citizen4, conv.d.room, { msgtype: MsgType.Text, body: "Mijn container is niet geleegd." });
    await processed(sent);
    await botSays(citizen4, conv.d.room, new RegExp(`Mevrouw Jansen van Gemeente Testdorp helpt u met uw vraag \\(${conv.d.reference}\\)`));
    const bodies = (await botMessagesAfter(citizen4, conv.d.room, sent)).map((c) => String(c.body));
    expect(bodies[0]).toMatch(/^We zijn nu gesloten\. Vanaf dinsdag 1 december 09:00 zijn we er weer\./);
    expect(bodies).toHaveLength(2);
  });

  it("taken with !neem before the first question: the receipt names who helps, not a place in the queue", async () => {
    clock.current = at("2026-12-01T08:00:00Z"); // Tuesday 09:00, open
    conv.e = await openConversation(citizen5);
    await send(colleague, department, { msgtype: MsgType.Text, body: `!neem ${conv.e.reference}` });
    await eventually(async () => ((await row(conv.e.reference))?.assigned === JSON.stringify([colleague.userId]) ? true : undefined), "the !neem");
    expect((await ask(citizen5, conv.e.room, "Hoe vraag ik een parkeervergunning aan?")).body)
      .toBe(`Bedankt voor uw bericht. Meneer de Vries helpt u. U krijgt uiterlijk dinsdag 1 december 13:00 antwoord. Uw referentie: ${conv.e.reference}.`);
  });

  it("!wachten stops the clock until the citizen writes; then the conversation is open with a new term", async () => {
    await eventually(() => colleague.client.joinRoom(conv.e.room).then(() => true), "the colleague's invite to e");
    await botSays(citizen5, conv.e.room, /Meneer de Vries van Gemeente Testdorp is bij uw gesprek gekomen/);
    expect((await ask(colleague, conv.e.room, "!wachten")).body).toMatch(/^We wachten op uw reactie\./);
    expect(await row(conv.e.reference)).toMatchObject({ status: "waiting", due_at: null });
    expect(await citizen5.client.getStateEvent(conv.e.room, "nl.loket.room", "")).toMatchObject({ status: "waiting" });
    clock.current = at("2026-12-01T10:00:00Z");
    const sent = await send(citizen5, conv.e.room, { msgtype: MsgType.Text, body: "Hier is het kenteken: AB-123-C." });
    await processed(sent);
    expect(await botMessagesAfter(citizen5, conv.e.room, sent)).toEqual([]);
    expect((await row(conv.e.reference))?.status).toBe("open");
    expect((await row(conv.e.reference))?.due_at?.toISOString()).toBe("2026-12-01T14:00:00.000Z"); // 11:00 + 4 working hours
    await eventually(async () => ((await citizen5.client.getStateEvent(conv.e.room, "nl.loket.room", "")) as { status?: string }).status === "open" ? true : undefined, "the room's status");
  });

  it("after a staff reply, a question after the quiet period gets no auto-reply, but a new term runs", async () => {
    const reply = await send(colleague, conv.e.room, { msgtype: MsgType.Text, body: "Dank u, ik regel het." });
    await processed(reply);
    expect((await row(conv.e.reference))?.due_at).toBeNull();
    clock.current = at("2026-12-01T20:00:00Z"); // ten hours later, closed
    const sent = await send(citizen5, conv.e.room, { msgtype: MsgType.Text, body: "Nog één vraag: geldt dit ook voor mijn tweede auto?" });
    await processed(sent);
    expect(await botMessagesAfter(citizen5, conv.e.room, sent)).toEqual([]);
    expect((await row(conv.e.reference))?.due_at?.toISOString()).toBe("2026-12-02T12:00:00.000Z"); // Wednesday 09:00 + 4 working hours
  });
});
