// The rows behind the crypto stores: one per bot (fixed device id, sealed dump, sync token).
import type { Database } from "../db/database.ts";
import { seal, unseal } from "./seal.ts";

export interface StoreRow {
  deviceId: string;
  /** Unsealed dump of the OlmMachine's IndexedDB databases; undefined before the first persist. */
  dump: Buffer | undefined;
  syncToken: string | undefined;
}

export class CryptoStoreRows {
  private readonly db: Database;
  private readonly key: Buffer;

  constructor(db: Database, dumpKey: Buffer) {
    this.db = db;
    this.key = dumpKey;
  }

  async load(userId: string): Promise<StoreRow | undefined> {
    const rows = await this.db.query<{ device_id: string; dump: Uint8Array | null; sync_token: string | null }>(
      "SELECT device_id, dump, sync_token FROM crypto_stores WHERE user_id = $1", [userId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      deviceId: row.device_id,
      dump: row.dump === null ? undefined : unseal(this.key, Buffer.from(row.dump), userId),
      syncToken: row.sync_token ?? undefined,
    };
  }

  /** Records the device id chosen for a bot; keeps an existing one (returned). */
  async create(userId: string, deviceId: string): Promise<string> {
    await this.db.query("INSERT INTO crypto_stores (user_id, device_id) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING", [userId, deviceId]);
    const rows = await this.db.query<{ device_id: string }>("SELECT device_id FROM crypto_stores WHERE user_id = $1", [userId]);
    return rows[0]?.device_id ?? deviceId;
  }

  /** Writes the dump, and with it the sync token it includes (one statement: both or neither). */
  async save(userId: string, dump: Buffer, syncToken?: string): Promise<number> {
    const sealed = seal(this.key, dump, userId);
    await this.db.query(
      "UPDATE crypto_stores SET dump = $2, sync_token = COALESCE($3, sync_token), updated_at = now() WHERE user_id = $1",
      [userId, sealed, syncToken ?? null],
    );
    return sealed.length;
  }
}

export interface StoreSummary {
  userId: string;
  deviceId: string;
  storeBytes: number;
  synced: boolean;
  updatedAt: string;
}

/** What the database alone tells about the crypto stores (works while Loket runs elsewhere). */
export async function readStoreSummaries(db: Database): Promise<{ stores: StoreSummary[]; waitingEvents: number }> {
  const rows = await db.query<{ user_id: string; device_id: string; bytes: number | null; synced: boolean; updated_at: string }>(
    "SELECT user_id, device_id, length(dump)::int AS bytes, sync_token IS NOT NULL AS synced, updated_at::text AS updated_at FROM crypto_stores ORDER BY user_id",
  );
  const waiting = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM crypto_waiting_events");
  return {
    stores: rows.map((r) => ({ userId: r.user_id, deviceId: r.device_id, storeBytes: r.bytes ?? 0, synced: r.synced, updatedAt: r.updated_at })),
    waitingEvents: waiting[0]?.n ?? 0,
  };
}
