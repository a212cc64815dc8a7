// What `loket crypto status` shows of a bot device: read from a running bot (the process that
// holds the store) or from a machine restored read-only out of the database (inspect.ts).
import { UserId, type OlmMachine } from "@matrix-org/matrix-sdk-crypto-wasm";
import type { BotDevice } from "./bot.ts";
import type { SyncState } from "./sync.ts";

/** What the machine itself says: device keys, cross-signing, room keys, tracked users. */
export interface MachineStatus {
  userId: string;
  deviceId: string;
  identityKeys: { curve25519: string; ed25519: string };
  crossSigning: { master: boolean; selfSigning: boolean; userSigning: boolean; masterKey: string | undefined };
  roomKeys: { total: number; backedUp: number };
  trackedUsers: number;
}

export interface BotCryptoStatus extends MachineStatus {
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

/** Reads the machine's state; changes nothing. Call inside bot.run() for a running bot. */
export async function machineStatus(machine: OlmMachine): Promise<MachineStatus> {
  const userId = machine.userId.toString();
  const keys = machine.identityKeys;
  const cs = await machine.crossSigningStatus();
  const counts = await machine.roomKeyCounts();
  const tracked = await machine.trackedUsers();
  const identity = await machine.getIdentity(new UserId(userId));
  const masterKey = identity === undefined ? undefined : firstKey(identity.masterKey);
  identity?.free();
  return {
    userId,
    deviceId: machine.deviceId.toString(),
    identityKeys: { curve25519: keys.curve25519.toBase64(), ed25519: keys.ed25519.toBase64() },
    crossSigning: { master: cs.hasMaster, selfSigning: cs.hasSelfSigning, userSigning: cs.hasUserSigning, masterKey },
    roomKeys: { total: counts.total, backedUp: counts.backedUp },
    trackedUsers: tracked.size,
  };
}

export function botStatus(bot: BotDevice, sync: SyncState): Promise<BotCryptoStatus> {
  return bot.run(async () => ({
    ...await machineStatus(bot.machine),
    storeBytes: bot.storeBytes,
    storeRecords: bot.recordCount,
    lastPersist: { ...bot.lastPersist, ms: Math.round(bot.lastPersist.ms) },
    synced: sync.token !== undefined,
    lastSyncAt: sync.lastSyncAt === undefined ? undefined : new Date(sync.lastSyncAt).toISOString(),
    toDeviceReceived: sync.toDeviceReceived,
  }));
}

/** The public key of a cross-signing key in its JSON form ({keys: {"ed25519:X": "X"}}). */
function firstKey(json: string): string | undefined {
  const parsed = JSON.parse(json) as { keys?: Record<string, string> };
  return Object.values(parsed.keys ?? {})[0];
}
