// `loket crypto status` without taking the store over: while Loket runs, its process is the one
// writer of each crypto store (the advisory lock); this reads the sealed records in one
// read-only snapshot, unseals them into a fresh in-memory machine (fake-indexeddb under a prefix
// of its own), reads the device's state and throws the copy away. Nothing is written to the
// database and nothing is sent to the homeserver, so it works the same with Loket running or not.
import { randomUUID } from "node:crypto";
import { DeviceId, initAsync, OlmMachine, StoreHandle, UserId } from "@matrix-org/matrix-sdk-crypto-wasm";
import type { Database } from "../db/database.ts";
import { deleteDatabases, restoreDatabases } from "./idb-dump.ts";
import { deriveKeys } from "./seal.ts";
import { machineStatus, type MachineStatus } from "./status.ts";
import { loadStoreRow, type StoreRow } from "./store.ts";

export interface StoredBotStatus {
  userId: string;
  /** Set when the bot has a device; undefined: Loket has not created one yet. */
  deviceId: string | undefined;
  /** The machine's state as last persisted; undefined before the first persist. */
  machine: MachineStatus | undefined;
  store: { bytes: number; records: number; updatedAt: string | undefined };
  synced: boolean;
}

export interface StoredCryptoStatus {
  bots: StoredBotStatus[];
  waitingEvents: number;
}

interface Snapshot {
  rows: Map<string, StoreRow>;
  sizes: Map<string, { bytes: number; records: number; updatedAt: string }>;
  waitingEvents: number;
}

/** One consistent, read-only cut of the stores of these bots (and every other bot's row). */
async function snapshot(db: Database, dumpKey: Buffer, bots: readonly string[]): Promise<Snapshot> {
  return db.transaction(async (tx) => {
    await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const sizes = await tx.query<{ user_id: string; bytes: number; records: number; updated_at: string }>(
      `SELECT s.user_id, coalesce(length(s.dump), 0)::int + coalesce(sum(length(r.data)), 0)::int AS bytes,
              count(r.record_id)::int AS records, s.updated_at::text AS updated_at
         FROM crypto_stores s LEFT JOIN crypto_store_records r ON r.user_id = s.user_id GROUP BY s.user_id`,
    );
    const rows = new Map<string, StoreRow>();
    for (const userId of new Set([...bots, ...sizes.map((s) => s.user_id)])) {
      const row = await loadStoreRow(tx, dumpKey, userId);
      if (row) rows.set(userId, row);
    }
    const waiting = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM crypto_waiting_events");
    return {
      rows,
      sizes: new Map(sizes.map((s) => [s.user_id, { bytes: s.bytes, records: s.records, updatedAt: s.updated_at }])),
      waitingEvents: waiting[0]?.n ?? 0,
    };
  });
}

/** The state of a persisted store, read from a throw-away copy of its machine. */
async function inspectRow(userId: string, row: StoreRow, machineKey: Uint8Array): Promise<MachineStatus | undefined> {
  if (!row.dump) return undefined;
  const prefix = `loket-crypto-inspect/${randomUUID()}/${userId}`;
  try {
    await restoreDatabases(prefix, row.dump);
    const handle = await StoreHandle.openWithKey(prefix, machineKey);
    let machine: OlmMachine;
    try {
      machine = await OlmMachine.initFromStore(new UserId(userId), new DeviceId(row.deviceId), handle);
    } finally {
      handle.free();
    }
    try {
      return await machineStatus(machine);
    } finally {
      machine.close();
    }
  } finally {
    await deleteDatabases(prefix);
  }
}

/**
 * Every configured bot, and every bot with a store that is no longer configured. Throws when a
 * record cannot be unsealed (wrong crypto.store_key).
 */
export async function inspectStores(db: Database, storeKey: string, bots: readonly string[]): Promise<StoredCryptoStatus> {
  const keys = deriveKeys(storeKey);
  const snap = await snapshot(db, keys.dump, bots);
  await initAsync();
  const out: StoredBotStatus[] = [];
  for (const userId of [...new Set([...bots, ...snap.rows.keys()])].sort()) {
    const row = snap.rows.get(userId);
    const size = snap.sizes.get(userId);
    out.push({
      userId,
      deviceId: row?.deviceId,
      machine: row === undefined ? undefined : await inspectRow(userId, row, keys.machine),
      store: { bytes: size?.bytes ?? 0, records: size?.records ?? 0, updatedAt: size?.updatedAt },
      synced: row?.syncToken !== undefined,
    });
  }
  return { bots: out, waitingEvents: snap.waitingEvents };
}
