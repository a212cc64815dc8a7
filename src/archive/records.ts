// Reading archive records in batches (keyset pagination): constant memory however large the
// archive, for verification, export, destruction lists and GDPR requests.
import type { Queryable } from "../db/database.ts";
import type { StoredRecord } from "./chain.ts";

export interface RecordRow {
  id: string;
  municipality: string;
  seq: string;
  room_id: string;
  conversation: string;
  reference: string | null;
  event_id: string;
  event_type: string;
  state_key: string | null;
  sender: string;
  origin_server_ts: string;
  received_at: Date;
  content: unknown;
  ciphertext: unknown;
  content_sha256: string;
  prev_hash: string;
  hash: string;
  destroyed_at: Date | null;
  destruction_id: string | null;
}

const COLUMNS = `id::text AS id, municipality, seq::text AS seq, room_id, conversation, reference, event_id, event_type,
  state_key, sender, origin_server_ts::text AS origin_server_ts, received_at, content, ciphertext, content_sha256,
  prev_hash, hash, destroyed_at, destruction_id::text AS destruction_id`;

export function toStored(r: RecordRow): StoredRecord {
  return {
    municipality: r.municipality,
    seq: Number(r.seq),
    prev_hash: r.prev_hash,
    room_id: r.room_id,
    conversation: r.conversation,
    reference: r.reference,
    event_id: r.event_id,
    event_type: r.event_type,
    state_key: r.state_key,
    sender: r.sender,
    origin_server_ts: Number(r.origin_server_ts),
    received_at: new Date(r.received_at).toISOString(),
    content_sha256: r.content_sha256,
    hash: r.hash,
    content: r.content,
    ciphertext: r.ciphertext,
    destroyed: r.destroyed_at !== null,
  };
}

/** A municipality's records in chain order. */
export async function* municipalityRecords(db: Queryable, municipality: string, batch = 1000): AsyncGenerator<RecordRow> {
  let after = 0;
  for (;;) {
    const rows = await db.query<RecordRow>(
      `SELECT ${COLUMNS} FROM archive_records WHERE municipality = $1 AND seq > $2 ORDER BY archive_records.seq LIMIT $3`,
      [municipality, after, batch],
    );
    yield* rows;
    if (rows.length < batch) return;
    after = Number(rows[rows.length - 1]?.seq);
  }
}

/** One conversation's records in order. */
export async function* conversationRecords(db: Queryable, conversation: string, batch = 1000): AsyncGenerator<RecordRow> {
  let after = 0;
  for (;;) {
    const rows = await db.query<RecordRow>(
      `SELECT ${COLUMNS} FROM archive_records WHERE conversation = $1 AND seq > $2 ORDER BY archive_records.seq LIMIT $3`,
      [conversation, after, batch],
    );
    yield* rows;
    if (rows.length < batch) return;
    after = Number(rows[rows.length - 1]?.seq);
  }
}
