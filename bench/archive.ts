// Archive benchmark, on PostgreSQL:
//  1. intake with archiving: Loket (every event archived in a municipality's DM) beside a server
//     that only stores each transaction (one INSERT, one commit), in the same run;
//  2. verify and export throughput on a large synthetic archive, with peak memory.
//   npm run bench:archive [-- --transactions 200 --rooms 50 --rounds 1 --records 1000000 --conversations 100]
// Rounds interleave the two servers of (1) and give their medians; --records 0 skips (2).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { contentHash, GENESIS_HASH, recordHash } from "../src/archive/chain.ts";
import { exportConversation, selectConversations } from "../src/archive/export.ts";
import { verifyChain } from "../src/archive/verify.ts";
import { parseConfig } from "../src/config/load.ts";
import { openDatabase } from "../src/db/database.ts";
import { migrate } from "../src/db/migrate.ts";
import { runLimit, runLoket, scratchDatabase } from "./servers.ts";

const { values } = parseArgs({ options: {
  transactions: { type: "string", default: "200" }, rooms: { type: "string", default: "50" },
  records: { type: "string", default: "1000000" }, conversations: { type: "string", default: "100" }, rounds: { type: "string", default: "1" },
} });
const TXNS = Number(values.transactions);
const ROOMS = Number(values.rooms);
const RECORDS = Number(values.records);
const CONVS = Number(values.conversations);
const ROUNDS = Number(values.rounds);
const SERVER_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const BOT = "@gemeente_bench:bench.test";

function bodies(run: string): string[] {
  return Array.from({ length: TXNS }, (_, t) => JSON.stringify({ events: Array.from({ length: 100 }, (_, i) => ({
    event_id: `$${run}-${t}-${i}`, room_id: `!bench${(t * 100 + i) % ROOMS}:bench.test`, type: "m.room.message", sender: "@burger:bench.test",
    origin_server_ts: Date.now(), content: { msgtype: "m.text", body: `Vraag ${t}-${i}: wanneer wordt het grofvuil opgehaald?` },
  })), ephemeral: [] }));
}

/** The store-only server ("the limit" of the intake benchmark): one INSERT and commit per transaction, then 200. */
const storeOnly = async (payload: string[]): Promise<number> => (await runLimit(SERVER_URL, payload, 1)).ackSeconds;

/** Loket with every event archived, in the DMs of one municipality's bot. */
async function loketWithArchive(payload: string[]): Promise<{ ack: number; done: number }> {
  const r = await runLoket("postgres", SERVER_URL, payload, 1, {
    config: { municipalities: [{ id: "bench", name: "Gemeente Bench", bot_localpart: "gemeente_bench" }] },
    async seed(db) {
      for (let room = 0; room < ROOMS; room++) await db.query("INSERT INTO direct_rooms (room_id, bot, citizen) VALUES ($1, $2, '@burger:bench.test')", [`!bench${room}:bench.test`, BOT]);
    },
    async check(db) {
      const [n] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM archive_records");
      if (n?.n !== TXNS * 100) throw new Error(`expected ${TXNS * 100} archive records, found ${n?.n ?? 0}`);
    },
  });
  return { ack: r.ackSeconds, done: r.processedSeconds };
}

let peakRss = 0;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
const mb = (b: number): number => Math.round(b / 1048576);

/** Writes RECORDS chained records over CONVS conversations, 5,000 per INSERT. */
async function synthesize(db: pg.Pool): Promise<void> {
  let prev = GENESIS_HASH;
  const base = Date.UTC(2025, 0, 1);
  for (let start = 1; start <= RECORDS; start += 5000) {
    const cols: unknown[][] = Array.from({ length: 12 }, () => []);
    for (let seq = start; seq < Math.min(start + 5000, RECORDS + 1); seq++) {
      const conv = `!conv${seq % CONVS}:bench.test`;
      const event = { type: "m.room.message", event_id: `$s${seq}`, room_id: conv, sender: "@burger:bench.test", content: { msgtype: "m.text", body: `Bericht ${seq}: wanneer is het gemeentehuis open?` } };
      const f = { municipality: "bench", seq, prev_hash: prev, room_id: conv, conversation: conv, reference: null, event_id: `$s${seq}`, event_type: "m.room.message",
        state_key: null, sender: "@burger:bench.test", origin_server_ts: base + seq * 1000, received_at: new Date(base + seq * 1000 + 5).toISOString(), content_sha256: contentHash(event, null) };
      prev = recordHash(f);
      [f.seq, f.room_id, f.event_id, f.origin_server_ts, f.received_at, JSON.stringify(event), f.content_sha256, f.prev_hash, prev, "m.room.message", "@burger:bench.test", conv]
        .forEach((v, i) => cols[i]?.push(v));
    }
    await db.query(
      `INSERT INTO archive_records (municipality, seq, room_id, conversation, event_id, event_type, sender, origin_server_ts, received_at, content, content_sha256, prev_hash, hash)
       SELECT 'bench', s, r, c, e, t, snd, ts, ra, ct::jsonb, cs, ph, h FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
         AS x(s, r, e, ts, ra, ct, cs, ph, h, t, snd, c)`, cols);
  }
  await db.query("INSERT INTO archive_heads VALUES ('bench', $1, $2)", [RECORDS, prev]);
  await db.query(`INSERT INTO archive_conversations (conversation, municipality, room_id, opened_at, last_at)
    SELECT conversation, 'bench', conversation, min(received_at), max(received_at) FROM archive_records GROUP BY conversation`);
}

const eps = (s: number): number => Math.round((TXNS * 100) / s);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const bareRuns: number[] = [];
const ackRuns: number[] = [];
const doneRuns: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  bareRuns.push(eps(await storeOnly(bodies(`a${round}`))));
  const r = await loketWithArchive(bodies(`b${round}`));
  ackRuns.push(eps(r.ack));
  doneRuns.push(eps(r.done));
}

const big = await scratchDatabase(SERVER_URL);
const pool = new pg.Pool({ connectionString: big.url, max: 2 });
pool.on("error", () => undefined);
const outDir = mkdtempSync(join(tmpdir(), "loket-bench-export-"));
const results: Record<string, number> = {};
try {
  if (RECORDS > 0) {
    const db = await openDatabase({ url: big.url, dataDir: "", poolSize: 2 });
    await migrate(db);
    let t = performance.now();
    await synthesize(pool);
    results.synthesize_seconds = Math.round((performance.now() - t) / 100) / 10;
    const baseRss = process.memoryUsage().rss;
    peakRss = baseRss;
    t = performance.now();
    const v = await verifyChain(db, "bench");
    if (v.broken !== undefined || v.count !== RECORDS) throw new Error(`verify: ${v.broken ?? v.count}`);
    results.verify_records_per_s = Math.round(RECORDS / ((performance.now() - t) / 1000));
    results.verify_peak_rss_mb = mb(peakRss);
    peakRss = process.memoryUsage().rss;
    const config = parseConfig({ appservice: { as_token: "x1y2z3", hs_token: "a1b2c3" }, municipalities: [{ id: "bench", name: "Gemeente Bench", bot_localpart: "gemeente_bench" }], archive: { blob_dir: join(outDir, "blobs") } }).config;
    t = performance.now();
    for await (const conv of selectConversations(db, { municipality: "bench", from: new Date(0), to: new Date(Date.UTC(2100, 0, 1)) })) await exportConversation(db, config, conv, join(outDir, "export"));
    results.export_records_per_s = Math.round(RECORDS / ((performance.now() - t) / 1000));
    results.export_peak_rss_mb = mb(peakRss);
    results.base_rss_mb = mb(baseRss);
    await db.close();
  }
} finally {
  clearInterval(sampler);
  await pool.end();
  await big.drop();
  rmSync(outDir, { recursive: true, force: true });
}

const [storeOnlyEps, processedEps] = [median(bareRuns), median(doneRuns)];
const summary = { store_only_eps: storeOnlyEps, archive_ack_eps: median(ackRuns), archive_processed_eps: processedEps,
  ratio: Math.round((storeOnlyEps === 0 ? 0 : processedEps / storeOnlyEps) * 100) / 100, rounds: ROUNDS, records: RECORDS, ...results };
console.log(`| measure | value |\n| --- | --- |\n${Object.entries(summary).map(([k, v]) => `| ${k} | ${v} |`).join("\n")}`);
console.log(JSON.stringify({ bench: "archive", ...summary }));
