// Writing events into the archive, exactly once, in batches per municipality: one transaction
// locks the municipality's chain head, skips events already archived (a replay), inserts the
// new records in order, moves the head, and enqueues their media downloads and hook deliveries.
// The writer (writer.ts) remembers each chain's head after its writes; given it, a batch is
// first tried in one statement (one round trip) that writes only if the head is still that one
// and none of the events is archived yet, else nothing, and then the careful way runs.
import type { Database, Queryable } from "../db/database.ts";
import { sqlState } from "../db/errors.ts";
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
  /** The configured hooks' URLs (their key): one outbox row per hook. */
  hooks: readonly string[];
}

export type CaptureResult = { archived: true; seq: number; media: number } | { archived: false };

/** A chain's head: its last record's seq and hash. */
export interface ChainHead { seq: number; hash: string }

export interface CaptureOutcome {
  results: CaptureResult[];
  /** The head after this batch. */
  head: ChainHead;
}

const UNIQUE_VIOLATION = "23505";

interface Prepared { results: CaptureResult[]; head: ChainHead; records: Record<string, unknown>[]; media: Record<string, unknown>[]; conversations: Record<string, unknown>[]; hooks: readonly string[] }

/**
 * What is archived of some events already. An event has at most two records: its ciphertext,
 * while its room key had not arrived, and then its decrypted content (README, "Late room
 * keys"); ciphertext after either is a replay, and so is content after content.
 */
export interface Archived { any: Set<string>; plain: Set<string> }

const nothingArchived = (): Archived => ({ any: new Set(), plain: new Set() });

/** The records of the batch, chained onto `head`, skipping what is archived already. */
function prepare(municipality: string, inputs: readonly CaptureInput[], head: ChainHead, seen: Archived): Prepared {
  let seq = head.seq;
  let prev = head.hash;
  const records: Record<string, unknown>[] = [];
  const media: Record<string, unknown>[] = [];
  const conversations = new Map<string, Record<string, unknown>>();
  const results: CaptureResult[] = [];
  for (const input of inputs) {
    const { event, context } = input;
    const cipher = event.type === "m.room.encrypted";
    if ((cipher ? seen.any : seen.plain).has(event.event_id)) { results.push({ archived: false }); continue; }
    seen.any.add(event.event_id);
    if (!cipher) seen.plain.add(event.event_id);
    const ciphertext = input.ciphertext ?? null;
    const f: ChainFields = {
      municipality, seq: ++seq, prev_hash: prev, room_id: event.room_id, conversation: event.room_id,
      reference: context.reference ?? null, event_id: event.event_id, event_type: event.type,
      state_key: typeof event.state_key === "string" ? event.state_key : null, sender: event.sender,
      origin_server_ts: typeof event.origin_server_ts === "number" ? event.origin_server_ts : 0,
      received_at: input.receivedAt.toISOString(), content_sha256: contentHash(event, ciphertext),
    };
    prev = recordHash(f);
    records.push({ ...f, hash: prev, content: event, ciphertext });
    const refs = mediaRefs(event);
    for (const r of refs) media.push({ event_id: event.event_id, url: r.url, encrypted: r.encrypted, mime: r.mime ?? null, bot: input.bot });
    const at = new Date(f.origin_server_ts || input.receivedAt.getTime()).toISOString();
    const before = conversations.get(f.conversation);
    conversations.set(f.conversation, {
      conversation: f.conversation, room_id: f.room_id, reference: f.reference, citizen: context.citizen ?? null, category: context.category ?? null,
      department: context.department ?? null, closed_at: context.closedAt?.toISOString() ?? null,
      opened_at: before?.opened_at ?? at, last_at: at, hooks: input.hooks,
    });
    results.push({ archived: true, seq: f.seq, media: refs.length });
  }
  return { results, head: { seq, hash: prev }, records, media, conversations: [...conversations.values()], hooks: inputs[0]?.hooks ?? [] };
}

/**
 * Inserts the records given as a JSON array of objects (the parameter `param`), one row each:
 * Loket's archive write, and the intake benchmark's reference server (bench/reference-rows.ts).
 */
export const insertRecords = (param: string): string => `INSERT INTO archive_records (municipality, seq, room_id, conversation, reference, event_id, event_type, state_key,
         sender, origin_server_ts, received_at, content, ciphertext, content_sha256, prev_hash, hash)
       SELECT municipality, seq, room_id, conversation, reference, event_id, event_type, state_key, sender, origin_server_ts,
         received_at, content, ciphertext, content_sha256, prev_hash, hash
       FROM json_to_recordset(${param}::json) AS x(municipality text, seq bigint, room_id text, conversation text, reference text,
         event_id text, event_type text, state_key text, sender text, origin_server_ts bigint, received_at timestamptz,
         content jsonb, ciphertext jsonb, content_sha256 text, prev_hash text, hash text)`;

/**
 * One statement: moves the head from `from` to the batch's last record, but only if it is still
 * at `from` and none of the records' events is archived yet; then (only then) the records, the
 * conversations, the media queue and the hook outbox. Its commit does not wait for the disk
 * (set_config(..., true) is SET LOCAL): the inbox transaction is on disk already and its
 * processed mark is written only after this commit, later in the log, so a crash that loses these
 * records loses the mark too, and the events are processed again. Returns whether it wrote.
 */
async function write(db: Queryable, municipality: string, from: ChainHead, p: Prepared): Promise<boolean> {
  const [row] = await db.query<{ written: number }>(
    `WITH async AS (SELECT set_config('synchronous_commit', 'off', true) AS v),
     head AS (
       UPDATE archive_heads SET seq = $2, hash = $3
       WHERE municipality = $1 AND seq = $8 AND hash = $9 AND (SELECT v FROM async) = 'off'
         AND NOT EXISTS (SELECT 1 FROM archive_records WHERE event_id = ANY($10::text[]))
       RETURNING 1),
     rec AS (
       ${insertRecords("$6")}
       WHERE EXISTS (SELECT 1 FROM head)
       ORDER BY seq RETURNING id, conversation),
     conv AS (
       INSERT INTO archive_conversations (conversation, municipality, room_id, reference, citizen, category, department, opened_at, last_at, closed_at)
       SELECT conversation, $1, room_id, reference, citizen, category, department, opened_at, last_at, closed_at
       FROM json_to_recordset($4::json) AS c(conversation text, room_id text, reference text, citizen text, category text,
         department text, opened_at timestamptz, last_at timestamptz, closed_at timestamptz)
       WHERE EXISTS (SELECT 1 FROM head)
       ON CONFLICT (conversation) DO UPDATE SET last_at = GREATEST(archive_conversations.last_at, EXCLUDED.last_at),
         reference = COALESCE(EXCLUDED.reference, archive_conversations.reference),
         citizen = COALESCE(EXCLUDED.citizen, archive_conversations.citizen),
         category = COALESCE(EXCLUDED.category, archive_conversations.category),
         department = COALESCE(EXCLUDED.department, archive_conversations.department),
         closed_at = COALESCE(EXCLUDED.closed_at, archive_conversations.closed_at)),
     media AS (
       INSERT INTO archive_media (event_id, url, municipality, bot, encrypted, mime)
       SELECT m.event_id, m.url, $1, m.bot, m.encrypted, m.mime FROM json_to_recordset($5::json) AS m(event_id text, url text, bot text, encrypted boolean, mime text)
       WHERE EXISTS (SELECT 1 FROM head)
       ON CONFLICT DO NOTHING),
     outbox AS (
       INSERT INTO archive_hook_outbox (hook_url, conversation, record_id)
       SELECT h.url, r.conversation, r.id FROM rec r CROSS JOIN unnest($7::text[]) WITH ORDINALITY AS h(url, n) ORDER BY r.id, h.n)
     SELECT count(*)::int AS written FROM head`,
    [municipality, p.head.seq, p.head.hash, JSON.stringify(p.conversations), JSON.stringify(p.media), JSON.stringify(p.records),
      // Ciphertext records may not follow any record of their event (checked here); content no
      // content of its event (the unique index archive_records_event refuses it: see below).
      [...p.hooks], from.seq, from.hash, p.records.filter((r) => r.event_type === "m.room.encrypted").map((r) => r.event_id)],
  ).catch((err: unknown) => {
    // A record of one of the events is there already (a replay): nothing was written, and the
    // careful way finds out which. The index answers this as part of the insert, where a check
    // beforehand would cost a lookup per event (or a scan of the table, as the planner chose it).
    const constraint = (err as { constraint?: unknown }).constraint;
    if (sqlState(err) === UNIQUE_VIOLATION && (constraint === undefined || constraint === "archive_records_event")) return [{ written: 0 }];
    throw err;
  });
  return row?.written === 1;
}

/**
 * Archives a batch of events of one municipality, in the given order. `head`: the chain's head
 * as this process last left it (the one-statement try); without it, or when the try finds the
 * head moved or an event archived already, the head is locked and read first.
 */
export async function captureBatch(db: Database, municipality: string, inputs: readonly CaptureInput[], head?: ChainHead): Promise<CaptureOutcome> {
  if (head) {
    const p = prepare(municipality, inputs, head, nothingArchived());
    if (p.records.length === 0) return { results: p.results, head };
    if (await write(db, municipality, head, p)) return { results: p.results, head: p.head };
  }
  return db.transaction(async (tx) => {
    // Creates the head on first use and locks it until commit: one writer per chain at a time.
    const [locked] = await tx.query<{ seq: string; hash: string }>(
      `INSERT INTO archive_heads (municipality, seq, hash) VALUES ($1, 0, $2)
       ON CONFLICT (municipality) DO UPDATE SET seq = archive_heads.seq RETURNING seq::text AS seq, hash`,
      [municipality, GENESIS_HASH],
    );
    if (!locked) throw new Error("archive head could not be locked");
    const from = { seq: Number(locked.seq), hash: locked.hash };
    const known = await tx.query<{ event_id: string; plain: boolean }>(
      "SELECT event_id, event_type <> 'm.room.encrypted' AS plain FROM archive_records WHERE event_id = ANY($1::text[])", [inputs.map((i) => i.event.event_id)]);
    const p = prepare(municipality, inputs, from, { any: new Set(known.map((k) => k.event_id)), plain: new Set(known.filter((k) => k.plain).map((k) => k.event_id)) });
    if (p.records.length === 0) return { results: p.results, head: from };
    if (!(await write(tx, municipality, from, p))) throw new Error("archive head moved while locked");
    return { results: p.results, head: p.head };
  });
}
