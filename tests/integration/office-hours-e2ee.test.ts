// The service queue in an encrypted DM, with a real E2EE client (matrix-js-sdk, Rust crypto) and a
// clock the test sets: the citizen's encrypted question reaches the queue as plaintext, and the
// closed auto-reply, the !status answer and the assignment notice arrive encrypted and decrypt.
import { randomBytes } from "node:crypto";
import { MatrixEvent, Preset } from "matrix-js-sdk";
import { describe, expect, it } from "vitest";
import { newCryptoUser, waitForDecrypted } from "../harness/crypto-client.ts";
import { newUser, waitForEvent, type TestUser } from "../harness/client.ts";
import { SERVER_NAME, TEST_MUNICIPALITY } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually } from "../harness/wait.ts";

const clock = { current: new Date("2026-11-27T17:00:00Z"), now(): Date { return this.current; } };
const fixture = useStack(() => ({
  clock,
  crypto: { enabled: true, store_key: randomBytes(24).toString("hex") },
  municipalities: [{ ...TEST_MUNICIPALITY, response_term: { working_hours: 4 } }],
}));
const bot = `@gemeente_testdorp:${SERVER_NAME}`;

/** The bot's next encrypted message not yet seen, decrypted. */
async function botSays(user: TestUser, roomId: string, seen: Set<string>): Promise<MatrixEvent> {
  const ev = await waitForEvent(user.client, roomId, (e) => e.getSender() === bot && e.getWireType() === "m.room.encrypted" && !seen.has(e.getId() ?? ""));
  seen.add(ev.getId() ?? "");
  return waitForDecrypted(user.client, roomId, ev.getId() ?? "");
}

describe("office hours in an encrypted DM", () => {
  it("answers an encrypted question with an encrypted auto-reply, !status and the assignment", async () => {
    const citizen = await newCryptoUser(fixture.stack.synapse, "versleuteld");
    const staff = await newUser(fixture.stack.synapse, "medewerker", { exact: true });
    await staff.client.setDisplayName("Mevrouw Jansen");
    const seen = new Set<string>();
    try {
      const { room_id: roomId } = await citizen.client.createRoom({
        is_direct: true, invite: [bot], preset: Preset.TrustedPrivateChat,
        initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
      });
      const first = await botSays(citizen, roomId, seen);
      const reference = /TEST-\d{4}-\d{6}/.exec(String(first.getContent().body))?.[0] ?? "no reference";

      await citizen.client.sendTextMessage(roomId, "Ik wil verhuizen; wat moet ik doen?");
      const reply = await botSays(citizen, roomId, seen);
      expect(reply.getContent()).toMatchObject({
        msgtype: "m.notice",
        body: `We zijn nu gesloten. Vanaf maandag 30 november 09:00 zijn we er weer. U krijgt uiterlijk maandag 30 november 13:00 antwoord. Uw referentie: ${reference}.`,
        format: "org.matrix.custom.html",
      });

      await citizen.client.sendTextMessage(roomId, "!status");
      expect(String((await botSays(citizen, roomId, seen)).getContent().body)).toBe(`Gesprek ${reference}: open.\nU bent nummer 1 in de wachtrij.\nU krijgt uiterlijk maandag 30 november 13:00 antwoord.`);

      // Monday morning: the staff member goes on duty (in the unencrypted department room) and is assigned.
      clock.current = new Date("2026-11-30T08:05:00Z");
      await fixture.stack.loket.started();
      const department = (await staff.client.getRoomIdForAlias(`#loket_test_afdeling_burgerzaken:${SERVER_NAME}`)).room_id;
      await eventually(() => staff.client.joinRoom(department).then(() => true), "the staff member's invite to the department room");
      await staff.client.sendTextMessage(department, "!dienst aan");
      expect(String((await botSays(citizen, roomId, seen)).getContent().body)).toBe(`Mevrouw Jansen van Gemeente Testdorp helpt u met uw vraag (${reference}).`);
      await eventually(() => Promise.resolve(staff.client.getRoom(roomId)?.getMyMembership() === "invite" ? true : undefined), "the assigned staff member's invite");
    } finally {
      citizen.client.stopClient();
    }
  });
});
