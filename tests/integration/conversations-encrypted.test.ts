// The conversations key test in encrypted rooms, with real E2EE clients (matrix-js-sdk with Rust
// crypto, as Element): a citizen's encrypted DM is a conversation whose first message, commands
// and answers are encrypted; !gesprek in the service desk opens a new encrypted room the citizen
// can read; a staff member who takes it with !neem reads what the citizen wrote before.
import { randomBytes } from "node:crypto";
import { MatrixEvent, Preset } from "matrix-js-sdk";
import { beforeAll, describe, expect, it } from "vitest";
import { waitForEvent, type TestUser } from "../harness/client.ts";
import { newCryptoUser, waitForDecrypted } from "../harness/crypto-client.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually } from "../harness/wait.ts";

const fixture = useStack(() => ({ crypto: { enabled: true, store_key: randomBytes(24).toString("hex") } }));
const bot = `@gemeente_testdorp:${SERVER_NAME}`;
const REF = /TEST-\d{4}-\d{6}/;
let staff: TestUser;
let departmentRoom: string;
const users: TestUser[] = [];

beforeAll(async () => {
  staff = await newCryptoUser(fixture.stack.synapse, "medewerker", { crossSign: true, exact: true });
  users.push(staff);
  await staff.client.setDisplayName("Mevrouw Jansen");
  await fixture.stack.loket.started();
  departmentRoom = (await staff.client.getRoomIdForAlias(`#loket_test_afdeling_burgerzaken:${SERVER_NAME}`)).room_id;
  await eventually(() => staff.client.joinRoom(departmentRoom).then(() => true), "the staff member's invite");
  return () => { for (const u of users) u.client.stopClient(); };
});

async function citizen(prefix: string): Promise<TestUser> {
  const user = await newCryptoUser(fixture.stack.synapse, prefix);
  users.push(user);
  return user;
}

/**
 * The bot's next message in the room that is not in `seen`: it must arrive encrypted (from the
 * bot's device) and decrypt; its plaintext body.
 */
async function botSaysEncrypted(user: TestUser, roomId: string, seen: Set<string>): Promise<{ body: string; msgtype: string }> {
  const ev = await waitForEvent(user.client, roomId, (e) => e.getSender() === bot && e.getWireType() === "m.room.encrypted" && !seen.has(e.getId() ?? ""));
  seen.add(ev.getId() ?? "");
  expect(String(ev.getWireContent().device_id)).toMatch(/^LOKET/);
  const clear = await waitForDecrypted(user.client, roomId, ev.getId() ?? "");
  expect(clear.isDecryptionFailure()).toBe(false);
  return { body: String(clear.getContent().body), msgtype: String(clear.getContent().msgtype) };
}

/** A plain message of the bot matching `match` (the department room and the desk are not encrypted). */
const botSays = (user: TestUser, roomId: string, match: RegExp) =>
  waitForEvent(user.client, roomId, (ev) => ev.getSender() === bot && ev.getType() === "m.room.message" && match.test(String(ev.getContent().body)));

const encryption = async (user: TestUser, roomId: string): Promise<unknown> => user.client.getStateEvent(roomId, "m.room.encryption", "");

describe("an encrypted DM", () => {
  it("is a conversation: encrypted first message with the reference, announced to the department, encrypted commands and answers", async () => {
    const user = await citizen("versleuteld");
    const seen = new Set<string>();
    const { room_id: dm } = await user.client.createRoom({
      is_direct: true, invite: [bot], preset: Preset.TrustedPrivateChat,
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    });
    const first = await botSaysEncrypted(user, dm, seen);
    expect(first.msgtype).toBe("m.notice");
    expect(first.body).toMatch(/^Welkom bij Gemeente Testdorp\./);
    const reference = REF.exec(first.body)?.[0] ?? "no reference";
    expect(await user.client.getStateEvent(dm, "nl.loket.room", "")).toEqual({ kind: "conversation", municipality: "test", reference, status: "open", department: "burgerzaken" });
    const rows = await fixture.stack.loket.database.query<{ reference: string }>("SELECT reference FROM conversations WHERE citizen = $1", [user.userId]);
    expect(rows).toEqual([{ reference }]);
    const notice = await botSays(staff, departmentRoom, new RegExp(reference));
    expect(String(notice.getContent().body)).toContain(`https://matrix.to/#/${dm}?via=${SERVER_NAME}`);

    await user.client.sendTextMessage(dm, "!help");
    expect((await botSaysEncrypted(user, dm, seen)).body).toMatch(/^Wat u hier kunt doen:/);
    await user.client.sendTextMessage(dm, "!taal en");
    expect((await botSaysEncrypted(user, dm, seen)).body).toBe("The conversation continues in English.");
  });
});

describe("a conversation in an encrypted room of Loket's own", () => {
  it("!gesprek opens an encrypted room the citizen can read; staff who take it with !neem read the history", async () => {
    const user = await citizen("balie");
    const desk = (await user.client.getRoomIdForAlias(`#loket_test_balie:${SERVER_NAME}`)).room_id;
    await user.client.joinRoom(desk);
    await user.client.sendTextMessage(desk, "!gesprek");
    await botSays(user, desk, /uitgenodigd voor een besloten gesprek/);
    const [row] = await fixture.stack.loket.database.query<{ room_id: string; reference: string }>("SELECT room_id, reference FROM conversations WHERE citizen = $1", [user.userId]);
    if (!row) throw new Error("no conversation recorded");
    await user.client.joinRoom(row.room_id);
    expect(await encryption(user, row.room_id)).toMatchObject({ algorithm: "m.megolm.v1.aes-sha2" });
    const seen = new Set<string>();
    const first = await botSaysEncrypted(user, row.room_id, seen);
    expect(first.body).toContain(row.reference);

    // The citizen writes before anyone from the municipality is in the room.
    const sent: string[] = [];
    for (const body of ["Mijn paspoort is verlopen", "Kan ik morgen langskomen?"]) {
      sent.push((await user.client.sendTextMessage(row.room_id, body)).event_id);
    }
    // The first question gets the office-hours answer (the promise, with the reference): the bot
    // read it, so it holds the citizen's room key. Then a command gets its own answer.
    expect((await botSaysEncrypted(user, row.room_id, seen)).body).toMatch(new RegExp(`Uw referentie: ${row.reference}\\.$`));
    await user.client.sendTextMessage(row.room_id, "!help");
    expect((await botSaysEncrypted(user, row.room_id, seen)).body).toMatch(/^Wat u hier kunt doen:/);

    await staff.client.sendTextMessage(departmentRoom, `!neem ${row.reference}`);
    await botSays(staff, departmentRoom, new RegExp(`gesprek ${row.reference}`));
    // Joined once the client has the invite: it takes the room keys only from its inviter.
    await eventually(() => Promise.resolve(staff.client.getRoom(row.room_id)?.getMyMembership() === "invite" ? true : undefined), "the invite to the conversation");
    await staff.client.joinRoom(row.room_id);
    expect((await botSaysEncrypted(user, row.room_id, seen)).body).toMatch(/Mevrouw Jansen van Gemeente Testdorp/);
    const history = await eventually(async () => {
      const out: string[] = [];
      for (const id of sent) {
        const ev = new MatrixEvent(await staff.client.fetchRoomEvent(row.room_id, id));
        await staff.client.decryptEventIfNeeded(ev);
        if (ev.isDecryptionFailure()) return undefined;
        out.push(String(ev.getContent().body));
      }
      return out;
    }, "the staff member decrypting the history");
    expect(history).toEqual(["Mijn paspoort is verlopen", "Kan ik morgen langskomen?"]);
  });
});
