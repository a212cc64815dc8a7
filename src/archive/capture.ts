// Writing one event into the archive, exactly once: one transaction that locks the
// municipality's chain head, inserts the record (ON CONFLICT on event_id: a replay is a no-op),
// moves the head, and enqueues the record's media downloads and hook deliveries.
import type { Database } from "../db/database.ts";
import type { RawEvent } from "../matrix/events.ts";
import { contentHash, GENESIS_HASH, recordHash, type ChainFields } from "./chain.ts";
import type { RoomContext } from "./context.ts";
import { mediaRefs } from "./media-refs.ts";

export interface CaptureInput {
  /** The event as received (decrypted when it was encrypted and could be decrypted). */
  event: RawEvent;
  /** The encrypted event as received, when there was one. */
  ciphertext?: RawEvent;
  context: RoomContext;
  receivedAt: Date;
  /** The bot whose rights download the media. */
  bot: string;
  /** Number of configured hooks: one outbox row per hook. */
  hooks: number;
}

export type CaptureResult = { archived: true; seq: number; media: number } | { archived: false };

export async function captureEvent(db: Database, input: CaptureInput): Promise<CaptureResult> {
  const { event, context } = input;
  const content = event as unknown;
  const ciphertext = input.ciphertext ?? null;
  const conversation = context.reference ?? event.room_id;
  return db.transaction(async (tx) => {
    // Creates the head on first use and locks it until commit: one writer per chain at a time.
    const [head] = await tx.query<{ seq: string; hash: string }>(
      `INSERT INTO archive_heads (municipality, seq, hash) VALUES ($1, 0, $2)
       ON CONFLICT (municipality) DO UPDATE SET seq = archive_heads.seq RETURNING seq::text AS seq, hash`,
      [context.municipality, GENESIS_HASH],
    );
    if (!head) throw new Error("archive head could not be locked");
    const fields: ChainFields = {
      municipality: context.municipality,
      seq: Number(head.seq) + 1,
      prev_hash: head.hash,
      room_id: event.room_id,
      conversation,
      reference: context.reference ?? null,
      event_id: event.event_id,
      event_type: event.type,
      state_key: typeof event.state_key === "string" ? event.state_key : null,
      sender: event.sender,
      origin_server_ts: typeof event.origin_server_ts === "number" ? event.origin_server_ts : 0,
      received_at: input.receivedAt.toISOString(),
      content_sha256: contentHash(content, ciphertext),
    };
    const hash = recordHash(fields);
    const [inserted] = await tx.query<{ id: string }>(
      `INSERT INTO archive_records (municipality, seq, room_id, conversation, reference, event_id, event_type, state_key,
         sender, origin_server_ts, received_at, content, ciphertext, content_sha256, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
       ON CONFLICT (event_id) DO NOTHING RETURNING id::text AS id`,
      [fields.municipality, fields.seq, fields.room_id, conversation, fields.reference, fields.event_id, fields.event_type,
        fields.state_key, fields.sender, fields.origin_server_ts, fields.received_at, JSON.stringify(content),
        ciphertext === null ? null : JSON.stringify(ciphertext), fields.content_sha256, fields.prev_hash, hash],
    );
    if (!inserted) return { archived: false };
    const media = mediaRefs(event);
    await tx.query(
      `WITH head AS (UPDATE archive_heads SET seq = $2, hash = $3 WHERE municipality = $1),
       conv AS (
         INSERT INTO archive_conversations (conversation, municipality, room_id, reference, citizen, category, department, opened_at, last_at, closed_at)
         VALUES ($4, $1, $5, $6, $7, $8, $9, $10, $10, $11)
         ON CONFLICT (conversation) DO UPDATE SET last_at = GREATEST(archive_conversations.last_at, EXCLUDED.last_at),
           citizen = COALESCE(EXCLUDED.citizen, archive_conversations.citizen),
           category = COALESCE(EXCLUDED.category, archive_conversations.category),
           department = COALESCE(EXCLUDED.department, archive_conversations.department),
           closed_at = COALESCE(EXCLUDED.closed_at, archive_conversations.closed_at)),
       media AS (
         INSERT INTO archive_media (event_id, url, municipality, bot, encrypted, mime)
         SELECT $12, m.url, $1, $13, m.encrypted, m.mime FROM jsonb_to_recordset($14::jsonb) AS m(url text, encrypted boolean, mime text)
         ON CONFLICT DO NOTHING)
       INSERT INTO archive_hook_outbox (hook, conversation, record_id)
       SELECT h, $4, $15 FROM generate_series(0, $16 - 1) AS h`,
      [fields.municipality, fields.seq, hash, conversation, event.room_id, fields.reference, context.citizen ?? null,
        context.category ?? null, context.department ?? null, new Date(fields.origin_server_ts || input.receivedAt.getTime()),
        context.closedAt ?? null, event.event_id, input.bot, JSON.stringify(media), inserted.id, input.hooks],
    );
    return { archived: true, seq: fields.seq, media: media.length };
  });
}
