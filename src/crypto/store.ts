// The rows behind the crypto stores: one per bot (fixed device id, sealed schema, sync token)
// plus its sealed IndexedDB records, of which each persist writes only those that changed.
import type { Database, Queryable } from "../db/database.ts";
import type { DumpRecord } from "./idb-dump.ts";
import { seal, unseal } from "./seal.ts";

export interface StoreRow {
  deviceId: string;
  /** Unsealed schema and records; undefined before the first persist. */
  dump: { schema: Buffer; records: DumpRecord[] } | undefined;
  syncToken: string | undefined;
}

const CHUNK = 200;
const recordAad = (userId: string, id: string): string => `${userId}\0${id}`;

export class CryptoStoreRows {
  private readonly db: Database;
  private readonly key: Buffer;

  constructor(db: Database, dumpKey: Buffer) {
    this.db = db;
    this.key = dumpKey;
  }

  load(userId: string): Promise<StoreRow | undefined> {
    return loadStoreRow(this.db, this.key, userId);
  }

  /** Records the device id chosen for a bot; keeps an existing one (returned). */
  async create(userId: string, deviceId: string): Promise<string> {
    await this.db.query("INSERT INTO crypto_stores (user_id, device_id) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING", [userId, deviceId]);
    const rows = await this.db.query<{ device_id: string }>("SELECT device_id FROM crypto_stores WHERE user_id = $1", [userId]);
    return rows[0]?.device_id ?? deviceId;
  }

  /**
   * Writes the schema, the changed and removed records and the sync token (when given) in one
   * transaction: the token never lands without the records that processed it. Returns the
   * sealed bytes written.
   */
  async save(userId: string, schema: Buffer, changed: DumpRecord[], removed: string[], syncToken?: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      let bytes = 0;
      for (let i = 0; i < changed.length; i += CHUNK) {
        const chunk = changed.slice(i, i + CHUNK).map((r) => [r.id, seal(this.key, r.data, recordAad(userId, r.id))] as const);
        bytes += chunk.reduce((n, [, data]) => n + data.length, 0);
        const values = chunk.map((_, j) => `($1, $${2 * j + 2}, $${2 * j + 3})`).join(", ");
        await tx.query(
          `INSERT INTO crypto_store_records (user_id, record_id, data) VALUES ${values} ON CONFLICT (user_id, record_id) DO UPDATE SET data = EXCLUDED.data`,
          [userId, ...chunk.flat()],
        );
      }
      await deleteRecords(tx, userId, removed);
      const sealed = seal(this.key, schema, userId);
      await tx.query(
        "UPDATE crypto_stores SET dump = $2, sync_token = COALESCE($3, sync_token), updated_at = now() WHERE user_id = $1",
        [userId, sealed, syncToken ?? null],
      );
      return bytes + sealed.length;
    });
  }
}

/** A bot's row and its records, unsealed; reads only (also used by `loket crypto status`). */
export async function loadStoreRow(q: Queryable, dumpKey: Buffer, userId: string): Promise<StoreRow | undefined> {
  const rows = await q.query<{ device_id: string; dump: Uint8Array | null; sync_token: string | null }>(
    "SELECT device_id, dump, sync_token FROM crypto_stores WHERE user_id = $1", [userId],
  );
  const row = rows[0];
  if (!row) return undefined;
  let dump: StoreRow["dump"];
  if (row.dump !== null) {
    const records = await q.query<{ record_id: string; data: Uint8Array }>(
      "SELECT record_id, data FROM crypto_store_records WHERE user_id = $1", [userId],
    );
    dump = {
      schema: unseal(dumpKey, Buffer.from(row.dump), userId),
      records: records.map((r) => ({ id: r.record_id, data: unseal(dumpKey, Buffer.from(r.data), recordAad(userId, r.record_id)) })),
    };
  }
  return { deviceId: row.device_id, dump, syncToken: row.sync_token ?? undefined };
}

async function deleteRecords(tx: Queryable, userId: string, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    await tx.query(`DELETE FROM crypto_store_records WHERE user_id = $1 AND record_id IN (${chunk.map((_, j) => `$${j + 2}`).join(", ")})`, [userId, ...chunk]);
  }
}

export interface StoreSummary {
  userId: string;
  deviceId: string;
  storeBytes: number;
  records: number;
  synced: boolean;
  updatedAt: string;
}

/** What the database alone tells about the crypto stores (works while Loket runs elsewhere). */
export async function readStoreSummaries(db: Database): Promise<{ stores: StoreSummary[]; waitingEvents: number }> {
  const rows = await db.query<{ user_id: string; device_id: string; bytes: number; records: number; synced: boolean; updated_at: string }>(
    `SELECT s.user_id, s.device_id, coalesce(length(s.dump), 0)::int + coalesce(sum(length(r.data)), 0)::int AS bytes,
            count(r.record_id)::int AS records, s.sync_token IS NOT NULL AS synced, s.updated_at::text AS updated_at
       FROM crypto_stores s LEFT JOIN crypto_store_records r ON r.user_id = s.user_id
      GROUP BY s.user_id ORDER BY s.user_id`,
  );
  const waiting = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM crypto_waiting_events");
  return {
    stores: rows.map((r) => ({ userId: r.user_id, deviceId: r.device_id, storeBytes: r.bytes, records: r.records, synced: r.synced, updatedAt: r.updated_at })),
    waitingEvents: waiting[0]?.n ?? 0,
  };
}
