// Transaction intake benchmark: floods PUT /_matrix/app/v1/transactions with synthetic
// transactions (100 events each) and measures events/s acknowledged and processed by Loket on
// PostgreSQL (and PGlite), beside a bare HTTP server that only acknowledges, in the same run.
//   npm run bench [-- --transactions 300 --concurrency 4 --rooms 50]
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pino } from "pino";
import pg from "pg";
import { start } from "../src/app.ts";
import { parseConfig } from "../src/config/load.ts";

const { values } = parseArgs({
  options: {
    transactions: { type: "string", default: "300" },
    concurrency: { type: "string", default: "4" },
    rooms: { type: "string", default: "50" },
    rounds: { type: "string", default: "3" },
  },
});
const ROUNDS = Number(values.rounds);
const TXNS = Number(values.transactions);
const CONCURRENCY = Number(values.concurrency);
const ROOMS = Number(values.rooms);
const EVENTS_PER_TXN = 100;
const HS_TOKEN = randomBytes(16).toString("hex");
const SERVER_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

function transactions(run: string): string[] {
  const bodies: string[] = [];
  for (let t = 0; t < TXNS; t++) {
    const events = Array.from({ length: EVENTS_PER_TXN }, (_, i) => ({
      event_id: `$${run}-${t}-${i}`,
      room_id: `!bench${(t * EVENTS_PER_TXN + i) % ROOMS}:bench.test`,
      type: "m.room.message",
      sender: "@burger:bench.test",
      origin_server_ts: Date.now(),
      content: { msgtype: "m.text", body: `Vraag ${t}-${i}: wanneer wordt het grofvuil opgehaald?` },
    }));
    bodies.push(JSON.stringify({ events, ephemeral: [] }));
  }
  return bodies;
}

/** Sends every body with CONCURRENCY requests in flight; returns seconds until all were acknowledged. */
async function flood(baseUrl: string, bodies: string[]): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < bodies.length) {
      const i = next++;
      const res = await fetch(`${baseUrl}/_matrix/app/v1/transactions/${i}`, {
        method: "PUT",
        body: bodies[i],
        headers: { "content-type": "application/json", authorization: `Bearer ${HS_TOKEN}` },
      });
      if (res.status !== 200) throw new Error(`transaction ${i}: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return (performance.now() - started) / 1000;
}

async function bare(bodies: string[]): Promise<{ ackSeconds: number }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => { res.writeHead(200, { "content-type": "application/json" }).end("{}"); });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  const ackSeconds = await flood(`http://127.0.0.1:${port}`, bodies);
  await new Promise<void>((r) => server.close(() => { r(); }));
  return { ackSeconds };
}

async function loket(store: "postgres" | "pglite", bodies: string[]): Promise<{ ackSeconds: number; processedSeconds: number }> {
  const dir = mkdtempSync(join(tmpdir(), "loket-bench-"));
  const dbName = `loket_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  let url = "";
  if (store === "postgres") {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    const u = new URL(SERVER_URL);
    u.pathname = `/${dbName}`;
    url = u.toString();
  }
  const { config } = parseConfig({
    homeserver: { url: "http://127.0.0.1:9", domain: "bench.test" },
    appservice: { port: 0, as_token: randomBytes(16).toString("hex"), hs_token: HS_TOKEN },
    database: { url, data_dir: join(dir, "pglite") },
  });
  const app = await start(config, { logger: pino({ level: "silent" }) });
  try {
    const started = performance.now();
    const ackSeconds = await flood(app.url, bodies);
    await app.idle();
    const processedSeconds = (performance.now() - started) / 1000;
    const [row] = await app.database.query<{ n: number }>("SELECT count(*)::int AS n FROM inbox_transactions WHERE processed_at IS NOT NULL");
    if (row?.n !== bodies.length) throw new Error(`expected ${bodies.length} processed transactions, found ${row?.n ?? 0}`);
    return { ackSeconds, processedSeconds };
  } finally {
    await app.stop();
    if (store === "postgres") {
      await admin.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
      await admin.end();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const events = TXNS * EVENTS_PER_TXN;
const rate = (s: number): number => Math.round(events / s);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

// Rounds interleave the three servers, so that a slow moment of the machine hits all of them;
// each figure is the median over the rounds.
const runs = { bare: [] as number[], pgAck: [] as number[], pgDone: [] as number[], liteAck: [] as number[], liteDone: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  runs.bare.push(rate((await bare(transactions(`bare${round}`))).ackSeconds));
  const p = await loket("postgres", transactions(`pg${round}`));
  runs.pgAck.push(rate(p.ackSeconds));
  runs.pgDone.push(rate(p.processedSeconds));
  const l = await loket("pglite", transactions(`pglite${round}`));
  runs.liteAck.push(rate(l.ackSeconds));
  runs.liteDone.push(rate(l.processedSeconds));
}
const result = {
  bare_ack_eps: median(runs.bare),
  postgres_ack_eps: median(runs.pgAck), postgres_processed_eps: median(runs.pgDone),
  pglite_ack_eps: median(runs.liteAck), pglite_processed_eps: median(runs.liteDone),
};
const ratio = result.postgres_processed_eps / result.bare_ack_eps;

console.log(`\nTransaction intake: ${TXNS} transactions x ${EVENTS_PER_TXN} events, ${CONCURRENCY} in flight, ${ROOMS} rooms, median of ${ROUNDS} rounds, Node ${process.version}\n`);
console.log("| server | acknowledged events/s | processed events/s |");
console.log("| --- | ---: | ---: |");
console.log(`| bare HTTP server (acknowledges only) | ${result.bare_ack_eps} | - |`);
console.log(`| Loket on PostgreSQL | ${result.postgres_ack_eps} | ${result.postgres_processed_eps} |`);
console.log(`| Loket on PGlite | ${result.pglite_ack_eps} | ${result.pglite_processed_eps} |`);
console.log(`\nLoket on PostgreSQL (processed) / bare server (acknowledged): ${ratio.toFixed(2)}\n`);
console.log(JSON.stringify({
  bench: "intake", transactions: TXNS, events_per_transaction: EVENTS_PER_TXN, concurrency: CONCURRENCY, rooms: ROOMS, rounds: ROUNDS,
  ...result, ratio_postgres_to_bare: Number(ratio.toFixed(3)),
}));
// matrix-js-sdk leaves a request-timeout timer running after each request; do not wait for it.
process.exit(0);
