// The crypto store on both backends: an OlmMachine's store written to the database, restored
// into a fresh fake-indexeddb by a new machine (same identity, same room keys: it decrypts),
// sealed at rest, and held by one writer only.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initAsync, RequestType } from "@matrix-org/matrix-sdk-crypto-wasm";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BotDevice } from "../../src/crypto/bot.ts";
import { decryptWith } from "../../src/crypto/decrypt.ts";
import { DeviceHttp } from "../../src/crypto/http.ts";
import { CryptoStoreLockedError, lockStores } from "../../src/crypto/lock.ts";
import { deriveKeys } from "../../src/crypto/seal.ts";
import { CryptoStoreRows } from "../../src/crypto/store.ts";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { migrate } from "../../src/db/migrate.ts";
import { OlmPeer, receiveToDevice, uploadKeys } from "../harness/olm-peer.ts";
import { createTestDatabase, DEFAULT_SERVER_URL, postgresServerUrl, type TestDatabase } from "../harness/postgres.ts";

const log = pino({ level: "silent" });
const keys = deriveKeys("a test store key, long enough");
const ROOM = "!room:loket.test";

describe.each(["postgres", "pglite"] as const)("crypto store on %s", (kind) => {
  let db: Database;
  let pgDb: TestDatabase | undefined;
  let dir: string;
  let n = 0;

  beforeAll(async () => {
    await initAsync();
    dir = mkdtempSync(join(tmpdir(), "loket-crypto-"));
    if (kind === "postgres") pgDb = await createTestDatabase(postgresServerUrl() ?? DEFAULT_SERVER_URL);
    db = await openDatabase({ url: pgDb?.url ?? "", dataDir: join(dir, "pglite"), poolSize: 2 });
    await migrate(db);
  });
  afterAll(async () => {
    await db.close();
    await pgDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const openBot = async (userId: string, rows = new CryptoStoreRows(db, keys.dump)): Promise<BotDevice> => {
    const row = await rows.load(userId);
    const deviceId = row?.deviceId ?? await rows.create(userId, `DEV${++n}`);
    const http = new DeviceHttp({ baseUrl: "http://127.0.0.1:9", asToken: "unused" }, userId, deviceId);
    return BotDevice.open({ userId, deviceId, http, rows, machineKey: keys.machine, log, assertWriter: () => undefined }, row?.dump);
  };

  it("a reloaded machine has the same identity and decrypts with the keys the first one received", async () => {
    const userId = `@bot${kind}:loket.test`;
    const bot = await openBot(userId);
    const uploaded = await uploadKeys(bot.machine);
    const identity = bot.machine.identityKeys.curve25519.toBase64();

    const citizen = await OlmPeer.create("@burger:loket.test", "CITIZEN");
    await receiveToDevice(bot.machine, await citizen.shareRoomKey(ROOM, { userId, deviceId: bot.deviceId, keys: uploaded }));
    const before = await citizen.encrypt(ROOM, "written before the restart");
    await bot.run(() => bot.persist());
    await bot.close();

    const reloaded = await openBot(userId);
    expect(reloaded.deviceId).toBe(bot.deviceId);
    expect(reloaded.machine.identityKeys.curve25519.toBase64()).toBe(identity);
    const after = await citizen.encrypt(ROOM, "written after the restart");
    for (const [event, body] of [[before, "written before the restart"], [after, "written after the restart"]] as const) {
      const res = await decryptWith([reloaded], event);
      expect(res.status).toBe("decrypted");
      if (res.status === "decrypted") {
        expect(res.event.content).toMatchObject({ body });
        expect(res.event.encrypted.type).toBe("m.room.encrypted");
      }
    }
    // The account came back as it was: its device keys count as uploaded (only a new fallback
    // key may be due, as the sync said none is left).
    const uploads = (await reloaded.machine.outgoingRequests()).filter((r) => r.type === RequestType.KeysUpload);
    expect(uploads.map((r) => (JSON.parse(r.body) as { device_keys?: unknown }).device_keys)).toEqual(uploads.map(() => undefined));
    await reloaded.close();
  });

  it("is sealed at rest: the row is not a readable dump, and a different key cannot open it", async () => {
    const userId = `@sealed${kind}:loket.test`;
    const bot = await openBot(userId);
    await bot.run(() => bot.persist());
    const ed25519 = bot.machine.identityKeys.ed25519.toBase64();
    await bot.close();
    const rows = await db.query<{ data: Uint8Array }>(
      "SELECT dump AS data FROM crypto_stores WHERE user_id = $1 UNION ALL SELECT data FROM crypto_store_records WHERE user_id = $1", [userId],
    );
    expect(rows.length).toBeGreaterThan(1);
    const stored = Buffer.concat(rows.map((r) => Buffer.from(r.data)));
    expect(stored.includes(Buffer.from("matrix-sdk-crypto"))).toBe(false);
    expect(stored.includes(Buffer.from(ed25519))).toBe(false);
    const wrong = new CryptoStoreRows(db, deriveKeys("another key, also long enough").dump);
    await expect(wrong.load(userId)).rejects.toThrow(/wrong crypto.store_key/);
  });

  it("writes only what changed: nothing when nothing did, a few records for a new room key", async () => {
    const userId = `@incremental${kind}:loket.test`;
    const bot = await openBot(userId);
    const uploaded = await uploadKeys(bot.machine);
    const citizen = await OlmPeer.create("@burger2:loket.test", "CITIZEN2");
    const target = { userId, deviceId: bot.deviceId, keys: uploaded };
    // Twenty conversations, each with its own room key (one record each).
    for (let i = 0; i < 20; i++) await receiveToDevice(bot.machine, await citizen.shareRoomKey(`!room${i}:loket.test`, target));
    await bot.run(() => bot.persist());
    const total = bot.recordCount;
    expect(total).toBeGreaterThan(20);
    await bot.run(() => bot.persist());
    expect(bot.lastPersist.records).toBe(0);

    await receiveToDevice(bot.machine, await citizen.shareRoomKey(ROOM, target));
    await bot.run(() => bot.persist());
    expect(bot.lastPersist.records).toBeGreaterThan(0);
    expect(bot.lastPersist.records).toBeLessThan(total / 4);
    // What was written incrementally reloads into a machine that decrypts.
    const event = await citizen.encrypt(ROOM, "incremental");
    await bot.close();
    const reloaded = await openBot(userId);
    expect(await decryptWith([reloaded], event)).toMatchObject({ status: "decrypted", event: { content: { body: "incremental" } } });
    await reloaded.close();
  });

  it("has one writer: a second lock on the same store is refused until the first is released", async () => {
    const bots = [`@locked${kind}:loket.test`];
    const url = pgDb?.url ?? "";
    const first = await lockStores(db, url, bots, () => undefined);
    await expect(lockStores(db, url, bots, () => undefined)).rejects.toBeInstanceOf(CryptoStoreLockedError);
    // Another bot's store is free.
    const other = await lockStores(db, url, [`@other${kind}:loket.test`], () => undefined);
    await first.release();
    const second = await lockStores(db, url, bots, () => undefined);
    await second.release();
    await other.release();
  });
});
