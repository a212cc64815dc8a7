// End to end against a real Synapse: a citizen opens a DM with the municipality's bot and is
// greeted; the appservice API refuses what it must and stores each transaction once.
import { textToHtml } from "../../src/matrix/html.ts";
import { Preset } from "matrix-js-sdk";
import { describe, expect, it } from "vitest";
import { firstMessageText } from "../../src/conversations/texts.ts";
import { Municipalities } from "../../src/tenants/municipalities.ts";
import { newUser, openDm, roomMessages, waitForEvent, waitForMessageFrom, type TestUser } from "../harness/client.ts";
import { inboxEvents, type InboxRow } from "../harness/inbox.ts";
import { eventually, metricValue } from "../harness/wait.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";

const fixture = useStack();
const bot = `@gemeente_testdorp:${SERVER_NAME}`;

const metricsText = async (): Promise<string> => (await fetch(`${fixture.stack.loket.url}/metrics`)).text();

const put = (path: string, body: string, token?: string): Promise<Response> =>
  fetch(`${fixture.stack.loket.url}${path}`, {
    method: "PUT",
    body,
    headers: { "content-type": "application/json", ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
  });

describe("a citizen opens a DM with the municipality", () => {
  it("the bot joins and answers in Dutch, with the municipality's name: the conversation's first message replaces the greeting", async () => {
    const { stack, citizen } = fixture;
    const roomId = await openDm(citizen, bot);
    const greeting = await waitForMessageFrom(citizen.client, roomId, bot);
    const [municipality] = new Municipalities(stack.config).all;
    if (!municipality) throw new Error("the stack has no municipality");
    const reference = /TEST-\d{4}-\d{6}/.exec(String(greeting.getContent().body))?.[0] ?? "no reference";
    const expected = firstMessageText(municipality, reference, "nl");
    expect(greeting.getContent()).toEqual({
      msgtype: "m.notice", body: expected, format: "org.matrix.custom.html", formatted_body: textToHtml(expected),
      "nl.loket.txn": expect.stringMatching(/^loket\./) as unknown,
    });
    expect(expected).toMatch(/^Welkom bij Gemeente Testdorp\./);
    // The bot carries the municipality's name.
    const member = citizen.client.getRoom(roomId)?.getMember(bot);
    expect(member?.membership).toBe("join");
    const profile = await citizen.client.getProfileInfo(bot);
    expect(profile.displayname).toBe("Gemeente Testdorp");
  });

  it("the appservice user lists the municipalities when none is the default", async () => {
    const sender = `@loket:${SERVER_NAME}`;
    const roomId = await openDm(fixture.citizen, sender);
    const reply = await waitForMessageFrom(fixture.citizen.client, roomId, sender);
    expect(reply.getContent().body).toContain(`- Gemeente Testdorp: ${bot}`);
  });
});

describe("invites to rooms that are not DMs", () => {
  const membershipOf = (user: TestUser, roomId: string, membership: string) =>
    waitForEvent(user.client, roomId, (ev) => ev.getType() === "m.room.member" && ev.getStateKey() === bot && ev.getContent().membership === membership);

  it("are declined when they come from someone who is not staff", async () => {
    const { room_id: roomId } = await fixture.citizen.client.createRoom({ invite: [bot], preset: Preset.PrivateChat, name: "Buurtgroep" });
    const left = await membershipOf(fixture.citizen, roomId, "leave");
    expect(left.getSender()).toBe(bot);
  });

  it("are not taken for a DM because the inviter says so: a room with others in it is left again", async () => {
    const other = await newUser(fixture.stack.synapse, "buurman");
    const { room_id: roomId } = await fixture.citizen.client.createRoom({ is_direct: true, invite: [other.userId, bot], preset: Preset.TrustedPrivateChat });
    await membershipOf(fixture.citizen, roomId, "join");
    const left = await membershipOf(fixture.citizen, roomId, "leave");
    expect(left.getSender()).toBe(bot);
    await fixture.stack.loket.idle();
    const greetings = (await roomMessages(fixture.citizen.client, roomId)).filter((m) => m.sender === bot && m.type === "m.room.message");
    expect(greetings).toEqual([]);
    other.client.stopClient();
  });

  it("are declined for a public room even when marked as a DM", async () => {
    const { room_id: roomId } = await fixture.citizen.client.createRoom({ is_direct: true, invite: [bot], preset: Preset.PublicChat });
    const left = await membershipOf(fixture.citizen, roomId, "leave");
    expect(left.getSender()).toBe(bot);
  });

  it("are accepted from the municipality's staff, without a greeting", async () => {
    const staff = await newUser(fixture.stack.synapse, "medewerker", { exact: true });
    const { room_id: roomId } = await staff.client.createRoom({ invite: [bot], preset: Preset.PrivateChat, name: "Team Burgerzaken" });
    await membershipOf(staff, roomId, "join");
    await fixture.stack.loket.idle();
    const messages = (await roomMessages(staff.client, roomId)).filter((m) => m.sender === bot && m.type === "m.room.message");
    expect(messages).toEqual([]);
    staff.client.stopClient();
  });
});

describe("the transaction endpoint", () => {
  it("refuses a missing token with 401 and a wrong one with 403", async () => {
    const missing = await put("/_matrix/app/v1/transactions/t1", '{"events":[]}');
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ errcode: "M_UNAUTHORIZED" });
    const wrong = await put("/_matrix/app/v1/transactions/t1", '{"events":[]}', "not-the-hs-token");
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ errcode: "M_FORBIDDEN" });
    const legacy = await fetch(`${fixture.stack.loket.url}/transactions/t1?access_token=wrong`, { method: "PUT", body: "{}" });
    expect(legacy.status).toBe(403);
  });

  it("answers bad JSON with 400 M_NOT_JSON and a non-transaction with 400 M_BAD_JSON", async () => {
    const token = fixture.stack.config.appservice.hs_token;
    const cases = [
      ["bad1", "{not json", "M_NOT_JSON"],
      ["bad2", '{"events":"nope"}', "M_BAD_JSON"],
      // Bodies with event ids are stored while they are parsed: the same answers, and nothing kept.
      ["bad3", '{"events":[{"event_id":"$bad3"}], oops', "M_NOT_JSON"],
      ["bad4", '{"events":[{"event_id":"$bad4","room_id":"!r:hs"}]}', "M_BAD_JSON"],
    ] as const;
    for (const [id, body, errcode] of cases) {
      const res = await put(`/_matrix/app/v1/transactions/${id}`, body, token);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ errcode });
    }
    const kept = await fixture.stack.loket.database.query("SELECT 1 FROM inbox_transactions WHERE txn_id LIKE 'bad%'");
    expect(kept).toEqual([]);
  });

  it("refuses an oversized body with 413", async () => {
    const big = JSON.stringify({ events: [], pad: "x".repeat(fixture.stack.config.appservice.max_body_bytes) });
    const res = await put("/_matrix/app/v1/transactions/big", big, fixture.stack.config.appservice.hs_token);
    expect(res.status).toBe(413);
  });

  it("a replayed transaction is acknowledged but not processed again", async () => {
    const { stack } = fixture;
    await stack.loket.started(); // the department room exists, so the notice below is sent
    const user = await newUser(stack.synapse, "replay");
    const roomId = await openDm(user, bot);
    const greeting = await waitForMessageFrom(user.client, roomId, bot);
    // Synapse also sends Loket the bot's own messages: the first message here and, last, the
    // notice of the new conversation in the department's room. Wait for both, so that nothing
    // of this conversation is still on its way while the counters are read.
    const reference = /TEST-\d{4}-\d{6}/.exec(String(greeting.getContent().body))?.[0] ?? "no reference";
    const isDepartmentNotice = (r: InboxRow): boolean => r.event.sender === bot && r.event.room_id !== roomId
      && String((r.event.content as { body?: unknown }).body).includes(reference);
    await eventually(async () => {
      const rows = await inboxEvents(stack.loket.database);
      const seen = rows.some((r) => r.event.event_id === greeting.getId() && r.processed) && rows.some((r) => isDepartmentNotice(r) && r.processed);
      return seen ? true : undefined;
    }, "the bot's messages to reach the inbox");
    await stack.loket.idle();
    // Find the transaction Synapse sent with the invite, and send it again as Synapse's
    // recoverer would: same id, same events, ephemeral data dropped.
    const db = stack.loket.database;
    const isInvite = (r: InboxRow): boolean => r.event.room_id === roomId && r.event.type === "m.room.member"
      && r.event.state_key === bot && (r.event.content as { membership?: string }).membership === "invite";
    const invite = (await inboxEvents(db)).find(isInvite);
    if (!invite) throw new Error("the invite was not stored");
    const before = await metricsText();
    const processedBefore = metricValue(before, "loket_event_processing_seconds_count");
    const duplicatesBefore = metricValue(before, 'loket_transactions_total{outcome="duplicate"}');
    const txnEvents = (await inboxEvents(db)).filter((r) => r.txnSeq === invite.txnSeq).map((r) => r.event);
    const body = JSON.stringify({ events: txnEvents, ephemeral: [] });
    const again = await put(`/_matrix/app/v1/transactions/${invite.txnId}`, body, stack.config.appservice.hs_token);
    expect(again.status).toBe(200);
    await stack.loket.idle();
    expect((await inboxEvents(db)).filter(isInvite)).toHaveLength(1);
    const text = await metricsText();
    expect(metricValue(text, 'loket_transactions_total{outcome="duplicate"}')).toBe(duplicatesBefore + 1);
    // No event was handled again: the handlers ran for none of the replayed events.
    expect(metricValue(text, "loket_event_processing_seconds_count")).toBe(processedBefore);
    const greetings = (await roomMessages(user.client, roomId)).filter((m) => m.sender === bot && m.type === "m.room.message");
    expect(greetings).toHaveLength(1);
    user.client.stopClient();
  });
});

describe("the other appservice endpoints", () => {
  // A lower-case scheme on purpose: "bearer" is as good as "Bearer".
  const get = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${fixture.stack.loket.url}${path}`, { ...init, headers: { authorization: `bearer ${fixture.stack.config.appservice.hs_token}` } });

  it("answers user queries for its bots (creating them) and 404 for anyone else", async () => {
    expect((await get(`/_matrix/app/v1/users/${encodeURIComponent(bot)}`)).status).toBe(200);
    const other = await get(`/_matrix/app/v1/users/${encodeURIComponent(`@someone:${SERVER_NAME}`)}`);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ errcode: "M_NOT_FOUND" });
    expect((await get(`/users/${encodeURIComponent(bot)}`)).status).toBe(200);
  });

  it("has no room aliases yet, answers pings, and knows no other endpoints", async () => {
    expect((await get(`/_matrix/app/v1/rooms/${encodeURIComponent(`#loket_x:${SERVER_NAME}`)}`)).status).toBe(404);
    const ping = await get("/_matrix/app/v1/ping", { method: "POST", body: '{"transaction_id":"t"}' });
    expect(ping.status).toBe(200);
    expect(await ping.json()).toEqual({});
    const wrongMethod = await get("/_matrix/app/v1/transactions/1", { method: "POST", body: "{}" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("PUT");
    expect(await wrongMethod.json()).toMatchObject({ errcode: "M_UNRECOGNIZED" });
    const unknown = await get("/_matrix/app/v1/nonsense");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ errcode: "M_UNRECOGNIZED" });
    expect((await fetch(`${fixture.stack.loket.url}/nonsense`)).status).toBe(404);
    const malformed = await get("/_matrix/app/v1/users/%E0%A4%A");
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ errcode: "M_INVALID_PARAM" });
  });

  it("accepts an empty transaction on the legacy path with the token as query parameter", async () => {
    const res = await fetch(`${fixture.stack.loket.url}/transactions/legacy-1?access_token=${fixture.stack.config.appservice.hs_token}`, { method: "PUT", body: '{"events":[]}' });
    expect(res.status).toBe(200);
  });

  it("counts refused tokens", async () => {
    const before = metricValue(await metricsText(), 'loket_auth_failures_total{reason="invalid"}');
    expect((await put("/_matrix/app/v1/transactions/x", "{}", "wrong-token")).status).toBe(403);
    expect(metricValue(await metricsText(), 'loket_auth_failures_total{reason="invalid"}')).toBe(before + 1);
  });
});

describe("health and metrics", () => {
  it("/live and /ready answer 200 while running", async () => {
    expect((await fetch(`${fixture.stack.loket.url}/live`)).status).toBe(200);
    const ready = await fetch(`${fixture.stack.loket.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
  });

  it("/metrics counts transactions and events with the loket_ prefix", async () => {
    const token = fixture.stack.config.appservice.hs_token;
    expect((await put("/_matrix/app/v1/transactions/m1", "{oops", token)).status).toBe(400);
    const roomId = await openDm(fixture.citizen, bot);
    await waitForMessageFrom(fixture.citizen.client, roomId, bot);
    const text = await metricsText();
    // Loket asked Synapse to ping it at start-up, and Synapse could.
    expect(metricValue(text, 'loket_homeserver_pings_total{outcome="ok"}')).toBeGreaterThan(0);
    expect(text).toMatch(/^loket_transactions_total\{outcome="stored"\} [1-9]/m);
    expect(text).toMatch(/^loket_transactions_total\{outcome="rejected"\} [1-9]/m);
    expect(text).toMatch(/^loket_events_total\{type="m.room.member"\} [1-9]/m);
    expect(text).toMatch(/^loket_event_processing_seconds_count [1-9]/m);
  });
});
