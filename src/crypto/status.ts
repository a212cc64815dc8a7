// What `loket crypto status` shows of a running bot device.
import { UserId } from "@matrix-org/matrix-sdk-crypto-wasm";
import type { BotDevice } from "./bot.ts";
import type { SyncState } from "./sync.ts";

export interface BotCryptoStatus {
  userId: string;
  deviceId: string;
  identityKeys: { curve25519: string; ed25519: string };
  crossSigning: { master: boolean; selfSigning: boolean; userSigning: boolean; masterKey: string | undefined };
  roomKeys: { total: number; backedUp: number };
  trackedUsers: number;
  storeBytes: number;
  storeRecords: number;
  lastPersist: { ms: number; records: number; bytes: number };
  synced: boolean;
  lastSyncAt: string | undefined;
  toDeviceReceived: number;
}

export interface CryptoStatus {
  bots: BotCryptoStatus[];
  waitingEvents: number;
}

export function botStatus(bot: BotDevice, sync: SyncState): Promise<BotCryptoStatus> {
  return bot.run(async () => {
    const { machine } = bot;
    const keys = machine.identityKeys;
    const cs = await machine.crossSigningStatus();
    const counts = await machine.roomKeyCounts();
    const tracked = await machine.trackedUsers();
    const identity = await machine.getIdentity(new UserId(bot.userId));
    const masterKey = identity === undefined ? undefined : firstKey(identity.masterKey);
    identity?.free();
    return {
      userId: bot.userId,
      deviceId: bot.deviceId,
      identityKeys: { curve25519: keys.curve25519.toBase64(), ed25519: keys.ed25519.toBase64() },
      crossSigning: { master: cs.hasMaster, selfSigning: cs.hasSelfSigning, userSigning: cs.hasUserSigning, masterKey },
      roomKeys: { total: counts.total, backedUp: counts.backedUp },
      trackedUsers: tracked.size,
      storeBytes: bot.storeBytes,
      storeRecords: bot.recordCount,
      lastPersist: { ...bot.lastPersist, ms: Math.round(bot.lastPersist.ms) },
      synced: sync.token !== undefined,
      lastSyncAt: sync.lastSyncAt === undefined ? undefined : new Date(sync.lastSyncAt).toISOString(),
      toDeviceReceived: sync.toDeviceReceived,
    };
  });
}

/** The public key of a cross-signing key in its JSON form ({keys: {"ed25519:X": "X"}}). */
function firstKey(json: string): string | undefined {
  const parsed = JSON.parse(json) as { keys?: Record<string, string> };
  return Object.values(parsed.keys ?? {})[0];
}
