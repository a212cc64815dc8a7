// `loket crypto status` as an operator runs it, beside a running Loket on PostgreSQL: the bot's
// device id, identity keys and cross-signing master key are the ones the homeserver publishes for
// the running device, and the event waiting for its room key is counted. It takes nothing over:
// Loket keeps its store lock. The same with Loket stopped. Plus the clear errors (crypto disabled, no store yet, a store key
// that does not open the store), and the loket_crypto_* metrics of the same traffic.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EncryptionSettings, initAsync, RoomId, UserId } from "@matrix-org/matrix-sdk-crypto-wasm";
import { Preset } from "matrix-js-sdk";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { asBot, newCryptoUser, waitForDecrypted } from "../harness/crypto-client.ts";
import { waitForEvent } from "../harness/client.ts";
import { OlmPeer } from "../harness/olm-peer.ts";
import { REPO_ROOT } from "../harness/paths.ts";
import { createTestDatabase } from "../harness/postgres.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually, metricValue } from "../harness/wait.ts";

const fixture = useStack(() => ({ crypto: { enabled: true, store_key: randomBytes(24).toString("hex") } }));
const bot = `@gemeente_testdorp:${SERVER_NAME}`;

function writeConfig(name: string, change: (c: Record<string, unknown>) => void = () => undefined): string {
  const config = JSON.parse(JSON.stringify(fixture.stack.config)) as Record<string, unknown>;
  change(config);
  const file = join(fixture.stack.dataDir, name);
  writeFileSync(file, YAML.stringify(config));
  return file;
}

/** Runs the command as an operator would, while this process keeps serving Loket. */
function cryptoStatus(file: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, "bin/loket.js"), "crypto", "status", "-c", file, ...args], { env: { ...process.env, LOKET_CONFIG: undefined } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (status) => { resolve({ status, stdout, stderr }); });
  });
}

interface KeysQuery {
  device_keys: Record<string, Record<string, { keys: Record<string, string> }>>;
  master_keys?: Record<string, { keys: Record<string, string> }>;
  self_signing_keys?: Record<string, unknown>;
}

describe("loket crypto status", { timeout: 120_000 }, () => {
  it("shows the running device, its keys and cross-signing, and the events waiting for keys, while Loket runs", async () => {
    const { stack } = fixture;
    const citizen = await newCryptoUser(stack.synapse, "status");
    const { config } = stack;
    const asToken = config.appservice.as_token;
    // What the homeserver publishes for the bot's running device, once crypto is up.
    const published = await eventually(async () => {
      const q = await asBot<KeysQuery>(stack.synapse.baseUrl, asToken, bot, "POST", "/v3/keys/query", { device_keys: { [bot]: [] } });
      const devices = Object.entries(q.device_keys[bot] ?? {}).filter(([id]) => id.startsWith("LOKET"));
      const master = Object.values(q.master_keys?.[bot]?.keys ?? {})[0];
      return devices.length === 1 && master !== undefined && q.self_signing_keys?.[bot] !== undefined ? { device: devices[0], master } : undefined;
    }, "the bot's device and cross-signing keys on the homeserver");
    const [deviceId, device] = published.device ?? ["", { keys: {} }];

    // An encrypted DM, and in it an event whose room key the bot never gets: it waits.
    const { room_id: roomId } = await citizen.client.createRoom({
      is_direct: true, invite: [bot], preset: Preset.TrustedPrivateChat,
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    });
    // The greeting (encrypted), and an encrypted command with its encrypted answer (decrypted).
    const fromBot = (except?: string) => waitForEvent(citizen.client, roomId, (e) => e.getSender() === bot && e.getWireType() === "m.room.encrypted" && e.getId() !== except);
    const greeting = await fromBot();
    await citizen.client.sendTextMessage(roomId, "!help");
    const answer = await fromBot(greeting.getId());
    expect((await waitForDecrypted(citizen.client, roomId, answer.getId() ?? "")).getContent().body).toMatch(/^Wat u hier kunt doen:/);
    await initAsync();
    const peer = await OlmPeer.create(citizen.userId, "PEERDEVICE");
    await peer.machine.shareRoomKey(new RoomId(roomId), [new UserId(citizen.userId)], new EncryptionSettings());
    const sealed = await peer.encrypt(roomId, "nobody gave the bot this key");
    // Sent as it is (the citizen's client has no crypto of its own to encrypt with).
    const url = `${stack.synapse.baseUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.encrypted/waiting-1`;
    const put = (txn: string, content: unknown) => fetch(url.replace("waiting-1", txn), { method: "PUT", headers: { authorization: `Bearer ${citizen.client.getAccessToken() ?? ""}` }, body: JSON.stringify(content) });
    expect((await put("waiting-1", sealed.content)).status).toBe(200);
    // And one that no key will ever open: a Megolm message that is not one.
    expect((await put("broken-1", { ...(sealed.content as Record<string, unknown>), ciphertext: "bm90IGEgbWVnb2xtIG1lc3NhZ2U" })).status).toBe(200);
    await eventually(async () => {
      const rows = await stack.loket.database.query<{ n: number }>("SELECT count(*)::int AS n FROM crypto_waiting_events WHERE room_id = $1", [roomId]);
      return rows[0]?.n === 1 ? true : undefined;
    }, "the event waiting for its key");

    const metrics = async (): Promise<string> => (await fetch(`${stack.loket.url}/metrics`)).text();
    const text = await eventually(async () => {
      const t = await metrics();
      return metricValue(t, 'loket_crypto_decryptions_total{outcome="failed"}') === 1 ? t : undefined;
    }, "the broken event counted as a failed decryption");
    expect(metricValue(text, 'loket_crypto_decryptions_total{outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'loket_crypto_decryptions_total{outcome="waiting"}')).toBe(1);
    expect(metricValue(text, "loket_crypto_waiting_events")).toBe(1);
    expect(metricValue(text, 'loket_crypto_encryptions_total{outcome="ok"}')).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, 'loket_crypto_encryptions_total{outcome="failed"}')).toBe(0);
    expect(metricValue(text, `loket_crypto_one_time_keys{bot="${bot}"}`)).toBeGreaterThan(0);
    expect(metricValue(text, "loket_crypto_store_persist_seconds_count")).toBeGreaterThan(0);

    const file = writeConfig("crypto-config.yaml");
    const res = await cryptoStatus(file, "--json");
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    const report = JSON.parse(res.stdout) as { bots: Record<string, unknown>[]; waiting_events: number };
    expect(report.waiting_events).toBe(1);
    expect(report.bots).toHaveLength(1);
    expect(report.bots[0]).toMatchObject({
      user_id: bot,
      device_id: deviceId,
      identity_keys: { curve25519: device.keys[`curve25519:${deviceId}`], ed25519: device.keys[`ed25519:${deviceId}`] },
      cross_signing: { master: true, self_signing: true, user_signing: true, master_key: published.master },
      synced: true,
    });
    expect((report.bots[0]?.store as { records: number }).records).toBeGreaterThan(0);

    const plain = await cryptoStatus(file);
    expect(plain.status).toBe(0);
    expect(plain.stdout).toContain(`${bot}\n  device          ${deviceId}\n`);
    expect(plain.stdout).toContain("cross-signing   master yes, self-signing yes, user-signing yes");
    expect(plain.stdout).toContain("events waiting for their room keys: 1");

    // Loket still holds its store lock (a second writer is refused) and its device is unchanged.
    const locks = await stack.loket.database.query<{ n: number }>(
      // In this test's database only: other test files' Lokets hold their own locks on the same server.
      "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND a.application_name = 'loket-crypto-lock' AND a.datname = current_database()",
    );
    expect(locks[0]?.n).toBe(1);
    citizen.client.stopClient();

    // With Loket stopped: the same, from the store as Loket left it.
    await stack.stopLoket();
    try {
      const stopped = await cryptoStatus(file, "--json");
      expect(stopped.status).toBe(0);
      const after = JSON.parse(stopped.stdout) as typeof report;
      expect(after.waiting_events).toBe(1);
      expect(after.bots[0]).toMatchObject({ device_id: deviceId, identity_keys: report.bots[0]?.identity_keys, cross_signing: report.bots[0]?.cross_signing });
    } finally {
      await stack.restartLoket();
    }
  });

  it("says clearly when crypto is disabled, when there is no store yet, when Loket holds the embedded store, and when the store key is wrong", async () => {
    const disabled = await cryptoStatus(writeConfig("disabled.yaml", (c) => { c.crypto = { enabled: false }; }));
    expect(disabled.status).toBe(1);
    expect(disabled.stderr).toContain("end-to-end encryption is disabled in this config (crypto.enabled: false)");

    const empty = await createTestDatabase(process.env.DATABASE_URL ?? "");
    try {
      const fresh = await cryptoStatus(writeConfig("fresh.yaml", (c) => { (c.database as Record<string, unknown>).url = empty.url; }));
      expect(fresh.status).toBe(2);
      expect(fresh.stderr).toContain("no crypto store yet: 'loket start' with crypto.enabled creates each bot's device and store");
    } finally {
      await empty.drop();
    }

    // On the embedded store, with Loket answering on the config's port: refused, folder untouched.
    const pgliteDir = join(fixture.stack.dataDir, "status-pglite");
    const embedded = await cryptoStatus(writeConfig("embedded.yaml", (c) => { c.database = { ...(c.database as object), url: "", data_dir: pgliteDir }; }));
    expect(embedded.status).toBe(2);
    expect(embedded.stderr).toContain("Loket is running on the embedded store");
    expect(existsSync(pgliteDir)).toBe(false);

    const wrong = await cryptoStatus(writeConfig("wrong-key.yaml", (c) => { (c.crypto as Record<string, unknown>).store_key = randomBytes(24).toString("hex"); }));
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain("cannot decrypt the crypto store: wrong crypto.store_key");
  });
});
