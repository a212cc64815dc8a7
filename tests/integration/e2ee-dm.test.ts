// A citizen opens an encrypted DM with the municipality's bot, as Element does: the bot's
// greeting arrives encrypted and the citizen's own client (matrix-js-sdk with Rust crypto, not
// Loket's code) decrypts it. After a Loket restart the bot keeps its device and greets again in
// a new encrypted DM.
import { randomBytes } from "node:crypto";
import { Preset } from "matrix-js-sdk";
import { describe, expect, it } from "vitest";
import { greetingText } from "../../src/conversations/greeting.ts";
import { Municipalities } from "../../src/tenants/municipalities.ts";
import { newCryptoUser, waitForDecrypted } from "../harness/crypto-client.ts";
import { waitForEvent, type TestUser } from "../harness/client.ts";
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

async function greetingIn(user: TestUser, roomId: string): Promise<{ type: string; body: unknown; deviceId: string | undefined }> {
  const ev = await waitForEvent(user.client, roomId, (e) => e.getSender() === bot && e.getWireType() === "m.room.encrypted");
  const clear = await waitForDecrypted(user.client, roomId, ev.getId() ?? "");
  return { type: clear.getType(), body: clear.getContent().body, deviceId: ev.getWireContent().device_id as string | undefined };
}

describe("an encrypted DM", () => {
  it("gets an encrypted greeting that the citizen's client decrypts, from the same bot device after a restart", async () => {
    const { stack } = fixture;
    const [municipality] = new Municipalities(stack.config).all;
    if (!municipality) throw new Error("no municipality");
    const citizen = await newCryptoUser(stack.synapse, "versleuteld");
    try {
      const first = await greetingIn(citizen, await encryptedDm(citizen));
      expect(first).toMatchObject({ type: "m.room.message", body: greetingText(municipality) });
      expect(first.deviceId).toMatch(/^LOKET/);

      await stack.restartLoket();
      const second = await greetingIn(citizen, await encryptedDm(citizen));
      expect(second.body).toBe(greetingText(municipality));
      expect(second.deviceId).toBe(first.deviceId);
    } finally {
      citizen.client.stopClient();
    }
  });
});
