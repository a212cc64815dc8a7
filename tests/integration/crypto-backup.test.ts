// Server-side key backup: the bot's room keys are backed up as they arrive, and when its
// database is lost, a new device restores them from the backup with the configured recovery key
// and decrypts the history again, under the same cross-signing identity; the dead device is
// removed from the account.
import { randomBytes } from "node:crypto";
import { Method, MsgType, Preset } from "matrix-js-sdk";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { startCrypto, type CryptoService } from "../../src/crypto/index.ts";
import type { UserId } from "../../src/matrix/ids.ts";
import { waitForEvent } from "../harness/client.ts";
import { asBot, newCryptoUser } from "../harness/crypto-client.ts";
import { inboxEvents } from "../harness/inbox.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually } from "../harness/wait.ts";

const fixture = useStack();
const bot = `@gemeente_testdorp:${SERVER_NAME}` as UserId;
const BACKUP_KEY = randomBytes(32).toString("base64");

describe("E2EE key backup", () => {
  let service: CryptoService | undefined;
  afterAll(async () => { await service?.stop(); });

  const start = (): Promise<CryptoService> => startCrypto({
    db: fixture.stack.loket.database,
    config: { ...fixture.stack.config, crypto: { enabled: true, store_key: "integration-test-store-key", backup_key: BACKUP_KEY, device_display_name: "Loket", sync_timeout_ms: 0 } },
    log: pino({ level: "silent" }),
    bots: [bot],
    onDecrypted: () => Promise.resolve(),
    sync: "manual",
  });
  const as = <T>(method: string, path: string, body?: unknown): Promise<T> =>
    asBot<T>(fixture.stack.synapse.baseUrl, fixture.stack.config.appservice.as_token, bot, method, path, body);

  it("backs up room keys and restores them on a new device after the database was lost", async () => {
    await as("POST", "/v3/register", { type: "m.login.application_service", username: "gemeente_testdorp", inhibit_login: true });
    service = await start();
    const citizen = await newCryptoUser(fixture.stack.synapse, "burger");
    try {
      const { room_id: roomId } = await citizen.client.createRoom({
        is_direct: true, invite: [bot], preset: Preset.TrustedPrivateChat,
        initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
      });
      await waitForEvent(citizen.client, roomId, (ev) => ev.getStateKey() === bot && ev.getContent().membership === "join");
      const { event_id } = await citizen.client.sendMessage(roomId, { msgtype: MsgType.Text, body: "Mijn adres is gewijzigd" });
      const raw = await eventually(async () => (await inboxEvents(fixture.stack.loket.database)).find((r) => r.event.event_id === event_id)?.event, "the message in the inbox");
      await service.syncNow();
      const [before] = (await service.status()).bots;
      expect(before?.roomKeys.total).toBeGreaterThan(0);
      expect(before?.roomKeys.backedUp).toBe(before?.roomKeys.total);
      const { version } = await as<{ version: string }>("GET", "/v3/room_keys/version");
      const backedUp = await as<{ rooms: Record<string, unknown> }>("GET", `/v3/room_keys/keys?version=${version}`);
      expect(Object.keys(backedUp.rooms)).toContain(roomId);

      // The database is lost: the store and everything in it.
      await service.stop();
      service = undefined;
      await fixture.stack.loket.database.query("DELETE FROM crypto_stores");
      service = await start();
      const [after] = (await service.status()).bots;
      expect(after?.deviceId).not.toBe(before?.deviceId);
      // The identity came back from the account data: same master key, new device signed by it.
      expect(after?.crossSigning.masterKey).toBe(before?.crossSigning.masterKey);
      const keys = await citizen.client.http.authedRequest<{
        device_keys: Record<string, Record<string, { signatures: Record<string, Record<string, string>> }>>;
        self_signing_keys?: Record<string, { keys: Record<string, string> }>;
      }>(Method.Post, "/keys/query", undefined, { device_keys: { [bot]: [] } });
      const ssk = Object.keys(keys.self_signing_keys?.[bot]?.keys ?? {})[0] ?? "none";
      expect(Object.keys(keys.device_keys[bot]?.[after?.deviceId ?? ""]?.signatures[bot] ?? {})).toContain(ssk);
      expect(await service.decrypt(raw)).toMatchObject({ status: "decrypted", event: { content: { body: "Mijn adres is gewijzigd" } } });
      const devices = await as<{ devices: { device_id: string }[] }>("GET", "/v3/devices");
      expect(devices.devices.map((d) => d.device_id)).toEqual([after?.deviceId]);
    } finally {
      citizen.client.stopClient();
    }
  });
});
