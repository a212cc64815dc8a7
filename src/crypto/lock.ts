// One writer per crypto store. Two processes writing one OlmMachine store would each ratchet
// their own copy of the Olm sessions and overwrite the other's dump: keys would be lost.
//
// PostgreSQL: a session-level advisory lock per bot, taken with pg_try_advisory_lock on a
// connection of its own that is held for as long as the crypto service runs. A second process
// is refused at once; a crashed process's lock goes with its connection. If the connection
// breaks, the lock may be gone: `lost` turns true and persisting refuses from then on.
//
// PGlite: an embedded, single-process database (two processes must never open one data_dir),
// so a second *process* cannot reach the store at all; the lock is kept in this process only and
// refuses a second crypto service on the same database object.
import { createHash } from "node:crypto";
import pg from "pg";
import type { Database } from "../db/database.ts";

/** 'LKTC': the advisory-lock class of Loket's crypto stores. */
const LOCK_CLASS = 0x4c4b5443 | 0;

export class CryptoStoreLockedError extends Error {
  constructor(userId: string) {
    super(`the crypto store of ${userId} is in use by another Loket process; stop that one first (one writer per store)`);
    this.name = "CryptoStoreLockedError";
  }
}

export interface StoreLock {
  /** True once the lock can no longer be trusted (its connection broke). */
  readonly lost: boolean;
  release(): Promise<void>;
}

/** int4 key of a bot's lock. */
export function lockKey(userId: string): number {
  return createHash("sha256").update(userId).digest().readInt32BE(0);
}

const inProcess = new WeakMap<Database, Set<string>>();

export async function lockStores(db: Database, databaseUrl: string, userIds: string[], onLost: (err: Error) => void): Promise<StoreLock> {
  if (db.kind === "pglite" || databaseUrl === "") return lockInProcess(db, userIds);
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "loket-crypto-lock" });
  let lost = false;
  client.on("error", (err) => {
    lost = true;
    onLost(err);
  });
  await client.connect();
  try {
    for (const userId of userIds) {
      const res = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS ok", [LOCK_CLASS, lockKey(userId)]);
      if (res.rows[0]?.ok !== true) throw new CryptoStoreLockedError(userId);
    }
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return {
    get lost() { return lost; },
    async release() {
      // Closing the session releases every advisory lock it holds.
      await client.end().catch(() => undefined);
    },
  };
}

function lockInProcess(db: Database, userIds: string[]): StoreLock {
  const held = inProcess.get(db) ?? new Set<string>();
  inProcess.set(db, held);
  const clash = userIds.find((u) => held.has(u));
  if (clash !== undefined) throw new CryptoStoreLockedError(clash);
  for (const u of userIds) held.add(u);
  return {
    lost: false,
    release() {
      for (const u of userIds) held.delete(u);
      return Promise.resolve();
    },
  };
}
