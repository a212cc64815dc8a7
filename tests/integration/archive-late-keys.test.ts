// An encrypted message whose room key reaches the bot late: Loket archives its ciphertext at
// once; when the key arrives, the decrypted event is handled (the bot answers) and archived as a
// second, later record with the same event id, whose `encrypted` is that ciphertext. The bot's
// /sync (which brings room keys) is held back by an HTTP proxy between Loket and Synapse.
import { randomBytes } from "node:crypto";
import { Preset } from "matrix-js-sdk";
import { describe, expect, it } from "vitest";
import { verifyChain } from "../../src/archive/verify.ts";
import { archivedIn } from "../harness/archive.ts";
import { newCryptoUser, waitForDecrypted } from "../harness/crypto-client.ts";
import { waitForEvent } from "../harness/client.ts";
import { startHttpProxy, type HttpProxy } from "../harness/http-proxy.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually } from "../harness/wait.ts";

let proxy: HttpProxy | undefined;
const fixture = useStack(() => ({
  crypto: { enabled: true, store_key: randomBytes(24).toString("hex"), sync_timeout_ms: 200 },
  homeserverUrl: async (port) => {
    proxy = await startHttpProxy(port);
    return proxy.url;
  },
}), async () => { await proxy?.close(); });
const bot = `@gemeente_testdorp:${SERVER_NAME}`;

describe("an event whose room key arrives late", () => {
  it("is archived as ciphertext at once, then decrypted, handled and archived again as a later record", async () => {
    const { stack } = fixture;
    if (!proxy) throw new Error("no proxy");
    const citizen = await newCryptoUser(stack.synapse, "laat");
    try {
      const { room_id: roomId } = await citizen.client.createRoom({
        is_direct: true, invite: [bot], preset: Preset.TrustedPrivateChat,
        initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
      });
      const greeting = await waitForEvent(citizen.client, roomId, (e) => e.getSender() === bot && e.getWireType() === "m.room.encrypted");
      await stack.loket.idle();

      // Hold back the bot's /sync: the room key of the citizen's first message cannot reach it.
      proxy.failWhen((req) => req.url?.startsWith("/_matrix/client/v3/sync") === true, 503);
      const before = proxy.failed;
      await eventually(() => Promise.resolve(proxy && proxy.failed > before ? true : undefined), "a /sync held back");
      const { event_id: eventId } = await citizen.client.sendTextMessage(roomId, "!help");

      const cipher = await eventually(async () => (await archivedIn(stack.loket.database, roomId)).find((r) => r.event_id === eventId), "the ciphertext archived");
      expect(cipher.event_type).toBe("m.room.encrypted");
      expect((cipher.content.content as { algorithm?: string }).algorithm).toBe("m.megolm.v1.aes-sha2");

      proxy.failWhen(undefined);
      // The key arrives: the event is decrypted and handled (the bot answers !help) ...
      const answer = await waitForEvent(citizen.client, roomId, (e) => e.getSender() === bot && e.getWireType() === "m.room.encrypted" && e.getId() !== greeting.getId());
      expect(String((await waitForDecrypted(citizen.client, roomId, answer.getId() ?? "")).getContent().body)).toMatch(/^Wat u hier kunt doen:/);
      // ... and archived as a second record, later in the chain, that carries the same ciphertext.
      const both = await eventually(async () => {
        const rows = (await archivedIn(stack.loket.database, roomId)).filter((r) => r.event_id === eventId);
        return rows.length === 2 ? rows : undefined;
      }, "the decrypted event archived");
      const [first, second] = both;
      expect(first?.seq).toBe(cipher.seq);
      expect(second?.seq).toBeGreaterThan(cipher.seq);
      expect(second?.event_type).toBe("m.room.message");
      expect((second?.content.content as { body?: string }).body).toBe("!help");
      expect((second?.content as { encrypted?: unknown }).encrypted).toEqual({ type: "m.room.encrypted", content: cipher.content.content });

      // A replay of every transaction adds nothing: each kind of record is kept once.
      await stack.loket.idle();
      await stack.loket.database.query("UPDATE inbox_transactions SET processed_at = NULL");
      await stack.restartLoket();
      await stack.loket.idle();
      expect((await archivedIn(stack.loket.database, roomId)).filter((r) => r.event_id === eventId)).toHaveLength(2);
      expect((await verifyChain(stack.loket.database, "test")).broken).toBeUndefined();
    } finally {
      citizen.client.stopClient();
    }
  }, 120_000);
});
