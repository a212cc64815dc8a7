// Server-side key backup (m.megolm_backup.v1.curve25519-aes-sha2) with a recovery key from the
// config, so that a lost database does not cost the archive its history: every room key the bot
// receives is backed up (encrypted to the backup's public key) on the homeserver, and a bot
// that starts with a new, empty store restores them.
import { BackupDecryptionKey, RoomId } from "@matrix-org/matrix-sdk-crypto-wasm";
import type { BotDevice } from "./bot.ts";
import { HomeserverRequestError } from "./http.ts";

const ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2";

interface BackupVersion { version: string; algorithm: string; auth_data?: { public_key?: string } }
interface KeyBackupData { session_data: { ephemeral: string; mac: string; ciphertext: string } }

export function backupKey(base64: string): BackupDecryptionKey {
  try {
    return BackupDecryptionKey.fromBase64(base64.trim());
  } catch {
    throw new Error("crypto.backup_key is not a base64 backup key (32 random bytes, e.g. `openssl rand -base64 32`)");
  }
}

async function currentVersion(bot: BotDevice): Promise<BackupVersion | undefined> {
  try {
    return await bot.http.request<BackupVersion>("GET", "/v3/room_keys/version");
  } catch (err) {
    if (err instanceof HomeserverRequestError && err.status === 404) return undefined;
    throw err;
  }
}

/**
 * Makes the homeserver's current backup version one for this key (creating a version when there
 * is none or it belongs to another key) and turns backing up on. Call inside bot.run().
 */
export async function enableBackup(bot: BotDevice, key: BackupDecryptionKey): Promise<string> {
  const publicKey = key.megolmV1PublicKey.publicKeyBase64;
  let current = await currentVersion(bot);
  if (current?.algorithm !== ALGORITHM || current.auth_data?.public_key !== publicKey) {
    const created = await bot.http.request<{ version: string }>("POST", "/v3/room_keys/version", {
      body: { algorithm: ALGORITHM, auth_data: { public_key: publicKey } },
    });
    current = { version: created.version, algorithm: ALGORITHM, auth_data: { public_key: publicKey } };
  }
  await bot.machine.saveBackupDecryptionKey(BackupDecryptionKey.fromBase64(key.toBase64()), current.version);
  await bot.machine.enableBackupV1(publicKey, current.version);
  return current.version;
}

/** Imports every room key of the backup into the machine; returns how many. Call inside bot.run(). */
export async function restoreBackup(bot: BotDevice, key: BackupDecryptionKey, version: string): Promise<number> {
  const res = await bot.http.request<{ rooms?: Record<string, { sessions?: Record<string, KeyBackupData> }> }>(
    "GET", "/v3/room_keys/keys", { query: { version } },
  );
  const keys = new Map<RoomId, Map<string, unknown>>();
  for (const [roomId, room] of Object.entries(res.rooms ?? {})) {
    const sessions = new Map<string, unknown>();
    for (const [sessionId, data] of Object.entries(room.sessions ?? {})) {
      const { ephemeral, mac, ciphertext } = data.session_data;
      sessions.set(sessionId, JSON.parse(key.decryptV1(ephemeral, mac, ciphertext)));
    }
    keys.set(new RoomId(roomId), sessions);
  }
  if (keys.size === 0) return 0;
  const result = await bot.machine.importBackedUpRoomKeys(keys, () => undefined, version);
  return result.importedCount;
}
