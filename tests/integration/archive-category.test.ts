// `!categorie <name>` on a real Synapse: staff set a conversation's archive category in the
// conversation room (by id or name, any case); citizens are refused; an unknown name is answered
// with the valid ones; the confirmation follows the conversation's language; the category moves
// the conversation on or off a destruction list and into the MDTO export.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Direction, EventType, MsgType } from "matrix-js-sdk";
import { beforeAll, describe, expect, it } from "vitest";
import { buildDestructionList, readDestructionList } from "../../src/archive/destruction-list.ts";
import { exportConversation, selectConversations } from "../../src/archive/export.ts";
import { newUser, openDm, waitForEvent, waitForMessageFrom, type TestUser } from "../harness/client.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually } from "../harness/wait.ts";

const fixture = useStack();
const bot = `@gemeente_testdorp:${SERVER_NAME}`;
const out = mkdtempSync(join(tmpdir(), "loket-category-"));
let staff: TestUser;
let dm = "";

/** Sends text and waits for the bot's answer to it: its first message after it, in the server's order. */
async function ask(user: TestUser, roomId: string, body: string): Promise<string> {
  const { event_id: sent } = await user.client.sendEvent(roomId, EventType.RoomMessage, { msgtype: MsgType.Text, body });
  return eventually(async () => {
    const res = await user.client.createMessagesRequest(roomId, null, 50, Direction.Backward);
    const at = res.chunk.findIndex((e) => e.event_id === sent);
    const after = res.chunk.slice(0, Math.max(at, 0)).reverse();
    const answer = after.find((e) => e.sender === bot && e.type === "m.room.message");
    return answer && String((answer.content as { body?: unknown }).body);
  }, `the answer to ${body}`);
}

/** Whether the conversation is on a destruction list of everything due within two years. */
async function dueWithinTwoYears(): Promise<boolean> {
  const { stack } = fixture;
  const list = await buildDestructionList(stack.loket.database, stack.config, "test", new Date(Date.now() + 2 * 365 * 86_400_000), out);
  return readDestructionList(list.json).conversations.some((c) => c.conversation === dm);
}

beforeAll(async () => {
  const { stack, citizen } = fixture;
  staff = await newUser(stack.synapse, "medewerker", { exact: true });
  await stack.loket.started();
  const department = (await staff.client.getRoomIdForAlias(`#loket_test_afdeling_burgerzaken:${SERVER_NAME}`)).room_id;
  await eventually(() => staff.client.joinRoom(department).then(() => true), "the staff member's invite");
  dm = await openDm(citizen, bot);
  const first = await waitForMessageFrom(citizen.client, dm, bot);
  const reference = /TEST-\d{4}-\d{6}/.exec(String(first.getContent().body))?.[0] ?? "";
  await ask(staff, department, `!neem ${reference}`);
  await eventually(() => staff.client.joinRoom(dm).then(() => true), "the invite to the conversation");
  await waitForEvent(citizen.client, dm, (ev) => ev.getSender() === bot && /bij uw gesprek gekomen/.test(String(ev.getContent().body)));
  await eventually(async () => ((await stack.loket.database.query("SELECT 1 FROM archive_conversations WHERE conversation = $1", [dm])).length > 0 ? true : undefined), "the conversation archived");
});

describe("!categorie", () => {
  it("is for staff only, and lists the valid categories for an unknown name", async () => {
    expect(await ask(fixture.citizen, dm, "!categorie klachten")).toMatch(/alleen voor medewerkers/);
    const unknown = await ask(staff, dm, "!categorie parkeren");
    expect(unknown).toContain("Onbekende archiefcategorie 'parkeren'");
    for (const id of ["algemene-vragen", "adviesaanvragen", "klachten"]) expect(unknown).toContain(id);
    const [row] = await fixture.stack.loket.database.query<{ category: string | null }>("SELECT category FROM archive_conversations WHERE conversation = $1", [dm]);
    expect(row?.category).toBeNull();
  });

  it("sets the category by id or name in any case, confirms in the conversation's language, and is audited", async () => {
    const { stack, citizen } = fixture;
    // Without a category of its own: the default (algemene-vragen, 1 year) applies.
    expect(await dueWithinTwoYears()).toBe(true);
    expect(await ask(staff, dm, "!categorie KLACHTEN")).toBe(`Archiefcategorie van gesprek ${await referenceOf()}: Klachten (bewaard tot 5 jaar na sluiten).`);
    expect(await dueWithinTwoYears()).toBe(false);
    await ask(citizen, dm, "!taal en");
    expect(await ask(staff, dm, "!categorie algemene VRAGEN")).toBe(`Archive category of conversation ${await referenceOf()}: Algemene vragen (kept until 1 years after closing).`);
    expect(await dueWithinTwoYears()).toBe(true);
    expect(await ask(staff, dm, "!category klachten")).toContain("Klachten");
    const entries = await stack.loket.database.query<{ actor: string; result: string }>("SELECT actor, result FROM archive_audit WHERE action = 'archive.category' AND object = $1 ORDER BY seq", [dm]);
    expect(entries).toEqual([staff.userId, staff.userId, staff.userId].map((actor, i) => ({ actor, result: ["klachten", "algemene-vragen", "klachten"][i] })));
  });

  it("is the category of the MDTO export", async () => {
    const { stack } = fixture;
    const convs = [];
    for await (const c of selectConversations(stack.loket.database, { conversation: dm })) convs.push(c);
    expect(convs).toHaveLength(1);
    const conv = convs[0];
    if (!conv) throw new Error("no conversation");
    const dir = await exportConversation(stack.loket.database, stack.config, conv, out);
    const xml = readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith(".mdto.xml") && !f.includes(".bestand.")) ?? ""), "utf8");
    expect(xml).toContain("Klachten");
    expect(xml).toContain("13.1");
    expect(xml).toContain("P5Y");
  });
});

async function referenceOf(): Promise<string> {
  const [row] = await fixture.stack.loket.database.query<{ reference: string }>("SELECT reference FROM conversations WHERE room_id = $1", [dm]);
  return row?.reference ?? "";
}
