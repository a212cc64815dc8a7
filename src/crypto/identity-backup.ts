// The bot's cross-signing identity survives a lost database when a backup key is configured:
// its private keys are kept, encrypted with a key derived from crypto.backup_key (AES-256-GCM),
// in the bot's account data on the homeserver. A new store imports them and signs its new device,
// so clients that verified the bot keep trusting it.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { DeviceId, UserId, type BackupDecryptionKey } from "@matrix-org/matrix-sdk-crypto-wasm";
import type { BotDevice } from "./bot.ts";
import { enc, HomeserverRequestError } from "./http.ts";
import { send } from "./requests.ts";

const TYPE = "nl.loket.cross_signing";

interface Stored { v: 1; iv: string; data: string }
interface Keys { master: string; selfSigning: string; userSigning: string }

function aesKey(backup: BackupDecryptionKey): Buffer {
  return Buffer.from(hkdfSync("sha256", Buffer.from(backup.toBase64(), "base64"), "loket", "cross-signing-keys", 32));
}

const path = (bot: BotDevice): string => `/v3/user/${enc(bot.userId)}/account_data/${TYPE}`;

/** Stores the machine's private cross-signing keys in account data. Call inside bot.run(). */
export async function saveIdentity(bot: BotDevice, backup: BackupDecryptionKey): Promise<void> {
  const exported = await bot.machine.exportCrossSigningKeys();
  if (!exported?.masterKey || !exported.self_signing_key || !exported.userSigningKey) return;
  const keys: Keys = { master: exported.masterKey, selfSigning: exported.self_signing_key, userSigning: exported.userSigningKey };
  exported.free();
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", aesKey(backup), iv);
  cipher.setAAD(Buffer.from(bot.userId));
  const data = Buffer.concat([cipher.update(JSON.stringify(keys)), cipher.final(), cipher.getAuthTag()]);
  const body: Stored = { v: 1, iv: iv.toString("base64"), data: data.toString("base64") };
  await bot.http.request("PUT", path(bot), { body });
}

/**
 * Imports the cross-signing keys kept in account data into a new store and signs this device
 * with them; false when there are none (or not for this backup key). Call inside bot.run().
 */
export async function restoreIdentity(bot: BotDevice, backup: BackupDecryptionKey): Promise<boolean> {
  let stored: Stored;
  try {
    stored = await bot.http.request<Stored>("GET", path(bot));
  } catch (err) {
    if (err instanceof HomeserverRequestError && err.status === 404) return false;
    throw err;
  }
  let keys: Keys;
  try {
    const data = Buffer.from(stored.data, "base64");
    const decipher = createDecipheriv("aes-256-gcm", aesKey(backup), Buffer.from(stored.iv, "base64"));
    decipher.setAAD(Buffer.from(bot.userId));
    decipher.setAuthTag(data.subarray(data.length - 16));
    keys = JSON.parse(Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString()) as Keys;
  } catch {
    return false;
  }
  const { machine } = bot;
  // The public keys on the homeserver must be known before the private ones can be checked.
  const query = machine.queryKeysForUsers([new UserId(bot.userId)]);
  await machine.markRequestAsSent(query.id, query.type, await send(bot.http, query));
  const status = await machine.importCrossSigningKeys(keys.master, keys.selfSigning, keys.userSigning);
  if (!status.hasMaster || !status.hasSelfSigning) return false;
  // Our fresh device keys must be on the server before they can be signed (flushed by the caller).
  const device = await machine.getDevice(new UserId(bot.userId), new DeviceId(bot.deviceId));
  if (!device) return false;
  const signature = await device.verify();
  await send(bot.http, signature);
  await bot.persist();
  return true;
}
