// A reference server for the intake benchmark: "the limit, plus rows". It stores each transaction
// as the limit does (one INSERT and commit before its 200), and then, as a processing step,
// writes one row per archived event into Loket's own archive_records table (its migrations, its
// indexes) with one statement for all transactions stored meanwhile, and marks the transaction processed, both without
// waiting for the disk, as Loket's processing commits do. It hashes nothing, keeps no chain and
// runs no queue: it is what any design that keeps one archive row per event must at least do,
// so its rate bounds what Loket can reach on this machine with its archive as designed.
import pg from "pg";
import { insertRecords } from "../src/archive/capture.ts";
import { openDatabase } from "../src/db/database.ts";
import { migrate } from "../src/db/migrate.ts";
import type { RawEvent } from "../src/matrix/events.ts";
import { measure, scratchDatabase, serveLocal, storingServer, type RunResult } from "./servers.ts";

const HASH = "0".repeat(64);

// Loket's own statement for the rows (without the chain head, the conversations and the queues).
const INSERT_ROWS = `WITH async AS (SELECT set_config('synchronous_commit', 'off', true) AS v)
${insertRecords("$1")}
WHERE (SELECT v FROM async) = 'off'`;

/** `archived`: which events get a row (the benchmark's Loket rooms). */
export async function runRows(serverUrl: string, bodies: string[], concurrency: number, archived: (e: RawEvent) => boolean): Promise<RunResult> {
  const db = await scratchDatabase(serverUrl);
  const schema = await openDatabase({ url: db.url, dataDir: "", poolSize: 1 });
  await migrate(schema);
  await schema.close();
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on("error", () => undefined);
  await pool.query("CREATE TABLE txns (seq bigserial PRIMARY KEY, txn_id text NOT NULL, body bytea NOT NULL, processed_at timestamptz)");
  let seq = 0;
  let left = bodies.length;
  let finished!: () => void;
  const allProcessed = new Promise<void>((r) => { finished = r; });
  // Whatever is stored while a write runs is written next, together: one INSERT of all its rows
  // and one UPDATE of all its marks, as Loket takes its backlog in batches.
  let queued: { seq: number; body: Buffer }[] = [];
  let writing = false;
  const drain = async (): Promise<void> => {
    writing = true;
    while (queued.length) {
      const batch = queued;
      queued = [];
      const receivedAt = new Date().toISOString();
      const rows = batch.flatMap(({ body }) => (JSON.parse(body.toString("utf8")) as { events: RawEvent[] }).events).filter(archived).map((e) => ({
        municipality: "bench", seq: ++seq, room_id: e.room_id, conversation: e.room_id, reference: null, event_id: e.event_id,
        event_type: e.type, state_key: null, sender: e.sender, origin_server_ts: e.origin_server_ts, received_at: receivedAt,
        content: e, ciphertext: null, content_sha256: HASH, prev_hash: HASH, hash: HASH,
      }));
      if (rows.length) await pool.query(INSERT_ROWS, [JSON.stringify(rows)]);
      await pool.query("WITH async AS (SELECT set_config('synchronous_commit', 'off', true) AS v) UPDATE txns SET processed_at = now() WHERE seq = ANY($1::bigint[]) AND (SELECT v FROM async) = 'off'", [batch.map((b) => b.seq)]);
      left -= batch.length;
    }
    writing = false;
    if (left === 0) finished();
  };
  const processTxn = (txnSeq: number, body: Buffer): void => {
    queued.push({ seq: txnSeq, body });
    if (!writing) void drain();
  };
  const server = await serveLocal(storingServer(pool, processTxn));
  try {
    return await measure(server.url, bodies, concurrency, { processed: () => allProcessed, postgres: true });
  } finally {
    await server.close();
    await pool.end();
    await db.drop();
  }
}
