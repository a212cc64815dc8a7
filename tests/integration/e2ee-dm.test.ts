// A citizen opens an encrypted DM with the municipality's bot, as Element does, and uses it with
// a real E2EE client (matrix-js-sdk with Rust crypto, not Loket's code): the conversation's first
// message arrives encrypted and decrypts; the citizen's encrypted commands reach the handlers as
// plaintext and get encrypted answers; commands sent while Loket is down are decrypted and
// answered after the restart, by the same bot device.
import { randomBytes } from "node:crypto";
import { Direction, MatrixEvent, Preset } from "matrix-js-sdk";
import { describe, expect, it } from "vitest";
import { firstMessageText } from "../../src/conversations/texts.ts";
import { Municipalities } from "../../src/tenants/municipalities.ts";
import { newCryptoUser, waitForDecrypted } from "../harness/crypto-client.ts";
import { waitForEvent, type TestUser } from "../harness/client.ts";
import { eventually } from "../harness/wait.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";

const fixture = useStack(() => ({ crypto: { enabled: true, store_key: randomBytes(24).toString("hex") } }));
const bot = `@gemeente_testdorp:${SERVER_NAME}`;

async function encryptedDm(user: TestUser): Promise<string> {
  const { room_id } = await user.client.createRoom({
    is_direct: true, invite: [bot], preset: Preset.TrustedPrivateChat,
    initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
  });
  return room_id;
}

/** The next encrypted message of the bot after `after` (an event id, or none), decrypted. */
async function botSays(user: TestUser, roomId: string, seen: Set<string>): Promise<{ body: string; deviceId: string; event: MatrixEvent }> {
  const ev = await waitForEvent(user.client, roomId, (e) => e.getSender() === bot && e.getWireType() === "m.room.encrypted" && !seen.has(e.getId() ?? ""));
  seen.add(ev.getId() ?? "");
  const clear = await waitForDecrypted(user.client, roomId, ev.getId() ?? "");
  expect(clear.getType()).toBe("m.room.message");
  return { body: String(clear.getContent().body), deviceId: String(ev.getWireContent().device_id), event: clear };
}

describe("an encrypted DM", () => {
  it("is a conversation in which messages go both ways encrypted, also across a restart", async () => {
    const { stack } = fixture;
    const [municipality] = new Municipalities(stack.config).all;
    if (!municipality) throw new Error("no municipality");
    const citizen = await newCryptoUser(stack.synapse, "versleuteld");
    const seen = new Set<string>();
    try {
      const roomId = await encryptedDm(citizen);
      const first = await botSays(citizen, roomId, seen);
      const reference = /TEST-\d{4}-\d{6}/.exec(first.body)?.[0] ?? "no reference";
      expect(first.body).toBe(firstMessageText(municipality, reference, "nl"));
      expect(first.deviceId).toMatch(/^LOKET/);

      // An encrypted command reaches the handlers as plaintext; the answer is encrypted.
      await citizen.client.sendTextMessage(roomId, "!help");
      expect((await botSays(citizen, roomId, seen)).body).toMatch(/^Wat u hier kunt doen:/);

      // Written while Loket is down: decrypted and answered after the restart, same device.
      await stack.stopLoket();
      await citizen.client.sendTextMessage(roomId, "!taal en");
      await stack.restartLoket();
      const answer = await botSays(citizen, roomId, seen);
      expect(answer.body).toBe("The conversation continues in English.");
      expect(answer.deviceId).toBe(first.deviceId);
    } finally {
      citizen.client.stopClient();
    }
  });

  it("a staff member who takes the conversation after ten encrypted messages can read those ten", async () => {
    const { stack } = fixture;
    const citizen = await newCryptoUser(stack.synapse, "geschiedenis");
    const staff = await newCryptoUser(stack.synapse, "medewerker", { crossSign: true, exact: true });
    const seen = new Set<string>();
    try {
      const roomId = await encryptedDm(citizen);
      const first = await botSays(citizen, roomId, seen);
      const reference = /TEST-\d{4}-\d{6}/.exec(first.body)?.[0] ?? "no reference";
      const sent: string[] = [];
      for (let i = 1; i <= 10; i++) {
        const { event_id } = await citizen.client.sendTextMessage(roomId, `bericht ${i}`);
        sent.push(event_id);
      }
      // The bot has the citizen's room key once it answers a command sent after the ten.
      await citizen.client.sendTextMessage(roomId, "!help");
      await botSays(citizen, roomId, seen);
      const departmentRoom = (await staff.client.getRoomIdForAlias(`#loket_test_afdeling_burgerzaken:${SERVER_NAME}`)).room_id;
      await eventually(() => staff.client.joinRoom(departmentRoom).then(() => true), "the staff member's invite to the department room");
      await staff.client.sendTextMessage(departmentRoom, `!neem ${reference}`);
      await eventually(() => Promise.resolve(staff.client.getRoom(roomId)?.getMyMembership() === "invite" ? true : undefined), "the invite to the conversation");
      await staff.client.joinRoom(roomId);
      const bodies = await eventually(async () => {
        const out: string[] = [];
        for (const id of sent) {
          const ev = new MatrixEvent(await staff.client.fetchRoomEvent(roomId, id));
          await staff.client.decryptEventIfNeeded(ev);
          if (ev.isDecryptionFailure()) return undefined;
          out.push(String(ev.getContent().body));
        }
        return out;
      }, "the staff member decrypting the history");
      expect(bodies).toEqual(Array.from({ length: 10 }, (_, i) => `bericht ${i + 1}`));
    } finally {
      citizen.client.stopClient();
      staff.client.stopClient();
    }
  });

  it("a question encrypted before the bot joined is read back and archived with the conversation", async () => {
    const { stack } = fixture;
    const citizen = await newCryptoUser(stack.synapse, "vroeg");
    const seen = new Set<string>();
    try {
      // As Element does: the first message as soon as the room is there (the client must know the
      // room is encrypted), before the bot has joined; Loket is down, so that it surely is before.
      await stack.stopLoket();
      const roomId = await encryptedDm(citizen);
      await eventually(() => Promise.resolve(citizen.client.getRoom(roomId) ? true : undefined), "the new room in the citizen's sync");
      const { event_id: question } = await citizen.client.sendTextMessage(roomId, "Hoe vraag ik een paspoort aan?");
      await stack.restartLoket();
      const first = await botSays(citizen, roomId, seen);
      const reference = /TEST-\d{4}-\d{6}/.exec(first.body)?.[0];
      const timeline = (await citizen.client.createMessagesRequest(roomId, null, 100, Direction.Forward)).chunk as unknown as { event_id: string; type: string; state_key?: string; content: { membership?: string } }[];
      const botJoined = timeline.findIndex((e) => e.type === "m.room.member" && e.state_key === bot && e.content.membership === "join");
      expect(timeline.findIndex((e) => e.event_id === question)).toBeLessThan(botJoined);
      // Never sent to Loket (no user of Loket's was in the room), read back after the join and
      // archived with the conversation's reference: as ciphertext while its room key is missing
      // (the test's client did not share it with the invited bot), and decrypted once it comes.
      const records = await eventually(async () => {
        const rows = await stack.loket.database.query<{ event_type: string; reference: string | null }>("SELECT event_type, reference FROM archive_records WHERE event_id = $1 ORDER BY seq", [question]);
        return rows.length > 0 ? rows : undefined;
      }, "the question in the archive");
      expect(records[0]).toEqual({ event_type: "m.room.encrypted", reference });
    } finally {
      citizen.client.stopClient();
    }
  });
});
