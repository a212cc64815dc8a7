// The crypto service: every bot device of this process, their sync loops, and the waiting events.
import { initAsync } from "@matrix-org/matrix-sdk-crypto-wasm";
import type { Config } from "../config/schema.ts";
import type { Database } from "../db/database.ts";
import type { Logger } from "../logging.ts";
import type { RawEvent } from "../matrix/events.ts";
import type { UserId } from "../matrix/ids.ts";
import { BotDevice } from "./bot.ts";
import { decryptWith, type DecryptResult } from "./decrypt.ts";
import { backupKey, enableBackup, restoreBackup } from "./backup.ts";
import { restoreIdentity, saveIdentity } from "./identity-backup.ts";
import { deleteStaleDevices, ensureCrossSigning, ensureDevice, newDeviceId } from "./device.ts";
import { encryptForRoom, rotateRoomKey, type EncryptedContent } from "./encrypt.ts";
import { shareHistory } from "./history.ts";
import { DeviceHttp, type FetchLike } from "./http.ts";
import { lockStores, type StoreLock } from "./lock.ts";
import { NO_OBSERVER, type CryptoObserver } from "./observer.ts";
import { deriveKeys } from "./seal.ts";
import { botStatus, type CryptoStatus } from "./status.ts";
import { CryptoStoreRows } from "./store.ts";
import { syncLoop, syncOnce, type SyncState } from "./sync.ts";
import { WaitingEvents, type DecryptedHandler } from "./waiting.ts";

export interface StartCryptoOptions {
  db: Database;
  config: Pick<Config, "crypto" | "homeserver" | "appservice" | "database">;
  log: Logger;
  /** The bots that get a device (namespaced users, never the appservice sender: it cannot /sync). */
  bots: UserId[];
  /** Receives events that were waiting for their room key, once it arrived (at least once). */
  onDecrypted: DecryptedHandler;
  /** fetch-compatible function for every homeserver call; default: global fetch. */
  fetch?: FetchLike;
  /** "loop" (default): long-poll /sync per bot; "manual": only syncNow() (tests, tools). */
  sync?: "loop" | "manual";
  /** Told about decryptions, encryptions, waiting events, one-time keys and persists (metrics). */
  observer?: CryptoObserver;
}

export interface CryptoService {
  decrypt(raw: RawEvent): Promise<DecryptResult>;
  encrypt(bot: UserId, roomId: string, type: string, content: object): Promise<EncryptedContent>;
  onMemberLeft(bot: UserId, roomId: string): Promise<void>;
  shareHistory(bot: UserId, roomId: string, userId: string): Promise<"shared" | "nothing-to-share" | "no-devices">;
  persist(): Promise<void>;
  syncNow(): Promise<void>;
  retryWaiting(): Promise<number>;
  status(): Promise<CryptoStatus>;
  stop(): Promise<void>;
}

interface Entry { bot: BotDevice; sync: SyncState }

export async function startCrypto(opts: StartCryptoOptions): Promise<CryptoService> {
  const { config, log, db } = opts;
  const observer = opts.observer ?? NO_OBSERVER;
  const storeKey = config.crypto.store_key;
  if (storeKey === undefined) throw new Error("crypto.store_key is not set");
  const sender = `@${config.appservice.sender_localpart}:${config.homeserver.domain}`;
  if (opts.bots.includes(sender as UserId)) throw new Error(`${sender} is the appservice sender, which cannot /sync: give encrypted rooms a namespaced bot`);
  const keys = deriveKeys(storeKey);
  const recovery = config.crypto.backup_key === undefined ? undefined : backupKey(config.crypto.backup_key);
  await initAsync();
  const lock: StoreLock = await lockStores(db, config.database.url, opts.bots, (err) => {
    log.error({ err }, "the connection holding the crypto store lock broke; crypto stops writing its stores");
  });
  const assertWriter = (): void => {
    if (lock.lost) throw new Error("crypto store lock lost; refusing to write the store");
  };
  const rows = new CryptoStoreRows(db, keys.dump);
  const httpOpts = { baseUrl: config.homeserver.url, asToken: config.appservice.as_token, fetch: opts.fetch };
  const entries = new Map<string, Entry>();
  const stopped = new AbortController();
  const background = new Set<Promise<unknown>>();
  const track = (what: string, p: Promise<unknown>): void => {
    const q = p.catch((err: unknown) => { log.error({ err, task: what }, "crypto background task failed"); });
    background.add(q);
    void q.finally(() => background.delete(q));
  };

  const decrypt = (raw: RawEvent): Promise<DecryptResult> => decryptWith([...entries.values()].map((e) => e.bot), raw);
  const waiting = new WaitingEvents(db, decrypt, opts.onDecrypted, log, observer);

  const openBot = async (userId: UserId): Promise<Entry> => {
    const row = await rows.load(userId);
    const deviceId = row?.deviceId ?? await rows.create(userId, newDeviceId());
    const bot = await BotDevice.open({
      userId, deviceId, rows, machineKey: keys.machine, log, assertWriter, observer,
      http: new DeviceHttp(httpOpts, userId, deviceId),
    }, row?.dump);
    // Room keys that arrive let waiting events through; the retry queues behind the current
    // machine call (which persists the key first), never inside it.
    bot.machine.registerRoomKeyUpdatedCallback((infos) => {
      const sessions = infos.map((i) => ({ roomId: i.roomId.toString(), sessionId: i.sessionId }));
      track("crypto.retry-waiting", waiting.retry(sessions));
      return Promise.resolve();
    });
    const userHttp = new DeviceHttp(httpOpts, userId);
    await ensureDevice(userHttp, deviceId, config.crypto.device_display_name);
    await bot.run(() => bot.flush());
    const fresh = row?.dump === undefined;
    // A new store takes back the bot's cross-signing identity when the backup key kept it.
    const identityRestored = fresh && recovery !== undefined && await bot.run(() => restoreIdentity(bot, recovery));
    const crossSigning = identityRestored ? "restored" : await bot.run(() => ensureCrossSigning(bot));
    if (recovery && crossSigning !== "restored") await bot.run(() => saveIdentity(bot, recovery));
    if (fresh) {
      const deleted = await deleteStaleDevices(userHttp, deviceId);
      if (deleted.length > 0) log.warn({ userId, deviceId, deleted }, "new crypto device: deleted the bot's earlier Loket devices (their store is gone)");
    }
    let restoredKeys = 0;
    if (recovery) {
      const version = await bot.run(() => enableBackup(bot, recovery));
      // A new store (first start, or the database was lost): take back what the backup holds.
      if (fresh) restoredKeys = await bot.run(() => restoreBackup(bot, recovery, version));
      await bot.run(() => bot.flush());
    }
    log.info({ userId, deviceId, crossSigning, restoredStore: !fresh, restoredKeys, backup: recovery !== undefined }, "crypto device ready");
    return { bot, sync: { token: row?.syncToken, lastSyncAt: undefined, toDeviceReceived: 0 } };
  };

  const closeAll = async (): Promise<void> => {
    stopped.abort();
    while (background.size > 0) await Promise.allSettled([...background]);
    for (const e of entries.values()) await e.bot.close();
    entries.clear();
    await lock.release();
  };

  try {
    for (const userId of opts.bots) entries.set(userId, await openBot(userId));
    // Catch up with what arrived while Loket was down before anything is decrypted.
    for (const e of entries.values()) await syncOnce(e.bot, e.sync, 0);
    await waiting.retry();
  } catch (err) {
    await closeAll();
    throw err;
  }
  if (opts.sync !== "manual") {
    for (const e of entries.values()) track("crypto.sync", syncLoop(e.bot, e.sync, config.crypto.sync_timeout_ms, stopped.signal, log));
  }

  const entryOf = (bot: UserId): Entry => {
    const e = entries.get(bot);
    if (!e) throw new Error(`${bot} has no crypto device in this process`);
    return e;
  };

  return {
    async decrypt(raw) {
      const res = await decrypt(raw);
      if (res.status !== "waiting") {
        observer.decrypted(res.status === "decrypted" ? "ok" : "failed");
        return res;
      }
      await waiting.add(raw, res.reason);
      // The key may have arrived between the attempt and the insert, its retry finding no row:
      // one more attempt closes that gap (the row goes, the caller gets the plaintext).
      const again = await decrypt(raw);
      if (again.status === "decrypted") await waiting.remove(raw.event_id);
      observer.decrypted(again.status === "decrypted" ? "ok" : "waiting");
      return again.status === "decrypted" ? again : res;
    },
    async encrypt(bot, roomId, type, content) {
      try {
        const sealed = await encryptForRoom(entryOf(bot).bot, roomId, type, content);
        observer.encrypted("ok");
        return sealed;
      } catch (err) {
        observer.encrypted("failed");
        throw err;
      }
    },
    async onMemberLeft(bot, roomId) {
      await rotateRoomKey(entryOf(bot).bot, roomId);
    },
    shareHistory: (bot, roomId, userId) => shareHistory(entryOf(bot).bot, roomId, userId),
    async persist() {
      for (const e of entries.values()) await e.bot.run(() => e.bot.persist());
    },
    async syncNow() {
      for (const e of entries.values()) await syncOnce(e.bot, e.sync, 0);
    },
    retryWaiting: () => waiting.retry(),
    async status() {
      const bots = [];
      for (const e of entries.values()) bots.push(await botStatus(e.bot, e.sync));
      return { bots, waitingEvents: await waiting.count() };
    },
    async stop() {
      await closeAll();
    },
  };
}
