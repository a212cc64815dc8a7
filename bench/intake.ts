// Transaction intake benchmark: floods PUT /_matrix/app/v1/transactions with synthetic
// transactions (100 events each) and measures events/s acknowledged and processed by Loket on
// PostgreSQL and on PGlite, beside "the limit" (a server that stores each transaction with one
// INSERT and one commit on the same PostgreSQL before its 200) and a bare HTTP server that only
// acknowledges, in the same run. Concurrency 1 is how Synapse sends (one transaction at a
// time); 4 shows the headroom. The target: Loket on PostgreSQL at least 0.9 of the limit.
//   npm run bench [-- --transactions 300 --concurrency 1,4 --rooms 50 --rounds 3]
import { parseArgs } from "node:util";
import { runBare, runLimit, runLoket, type RunResult } from "./servers.ts";

const { values } = parseArgs({
  options: {
    transactions: { type: "string", default: "300" },
    concurrency: { type: "string", default: "1,4" },
    rooms: { type: "string", default: "50" },
    rounds: { type: "string", default: "3" },
  },
});
const TXNS = Number(values.transactions);
const LEVELS = values.concurrency.split(",").map(Number);
const ROOMS = Number(values.rooms);
const ROUNDS = Number(values.rounds);
const EVENTS_PER_TXN = 100;
const SERVER_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

function transactions(run: string): string[] {
  return Array.from({ length: TXNS }, (_, t) => JSON.stringify({
    events: Array.from({ length: EVENTS_PER_TXN }, (_, i) => ({
      event_id: `$${run}-${t}-${i}`,
      room_id: `!bench${(t * EVENTS_PER_TXN + i) % ROOMS}:bench.test`,
      type: "m.room.message",
      sender: "@burger:bench.test",
      origin_server_ts: Date.now(),
      content: { msgtype: "m.text", body: `Vraag ${t}-${i}: wanneer wordt het grofvuil opgehaald?` },
    })),
    ephemeral: [],
  }));
}

const eps = (seconds: number): number => Math.round((TXNS * EVENTS_PER_TXN) / seconds);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
type Server = "bare" | "limit" | "postgres" | "pglite";
const SERVERS: Server[] = ["bare", "limit", "postgres", "pglite"];
const run = (server: Server, bodies: string[], c: number): Promise<RunResult> => {
  if (server === "bare") return runBare(bodies, c);
  if (server === "limit") return runLimit(SERVER_URL, bodies, c);
  return runLoket(server, SERVER_URL, bodies, c);
};

const results: Record<string, number> = {};
const rows: string[] = [];
for (const c of LEVELS) {
  // Rounds interleave the servers, so that a slow moment of the machine hits all of them; each
  // figure is the median over the rounds.
  const ack: Record<Server, number[]> = { bare: [], limit: [], postgres: [], pglite: [] };
  const done: Record<Server, number[]> = { bare: [], limit: [], postgres: [], pglite: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const server of SERVERS) {
      const r = await run(server, transactions(`${server}-${c}-${round}`), c);
      ack[server].push(eps(r.ackSeconds));
      done[server].push(eps(r.processedSeconds));
    }
  }
  for (const server of SERVERS) {
    results[`${server}_c${c}_ack_eps`] = median(ack[server]);
    if (server === "postgres" || server === "pglite") results[`${server}_c${c}_processed_eps`] = median(done[server]);
  }
  const processed = results[`postgres_c${c}_processed_eps`] ?? 0;
  const toLimit = processed / (results[`limit_c${c}_ack_eps`] ?? 1);
  const toBare = processed / (results[`bare_c${c}_ack_eps`] ?? 1);
  results[`ratio_postgres_to_limit_c${c}`] = Number(toLimit.toFixed(2));
  results[`ratio_postgres_to_bare_c${c}`] = Number(toBare.toFixed(2));
  rows.push(`| ${c} | bare HTTP server (acknowledges only) | ${results[`bare_c${c}_ack_eps`] ?? 0} | - |`);
  rows.push(`| ${c} | the limit: one INSERT and commit per transaction on PostgreSQL | ${results[`limit_c${c}_ack_eps`] ?? 0} | - |`);
  rows.push(`| ${c} | Loket on PostgreSQL | ${results[`postgres_c${c}_ack_eps`] ?? 0} | ${processed} |`);
  rows.push(`| ${c} | Loket on PGlite | ${results[`pglite_c${c}_ack_eps`] ?? 0} | ${results[`pglite_c${c}_processed_eps`] ?? 0} |`);
  rows.push(`| ${c} | Loket on PostgreSQL (processed) / the limit | ${toLimit.toFixed(2)} | |`);
  rows.push(`| ${c} | Loket on PostgreSQL (processed) / bare server | ${toBare.toFixed(2)} | |`);
}

console.log(`\nTransaction intake: ${TXNS} transactions x ${EVENTS_PER_TXN} events over ${ROOMS} rooms, median of ${ROUNDS} rounds, Node ${process.version}\n`);
console.log("| in flight | server | acknowledged events/s | processed events/s |");
console.log("| ---: | --- | ---: | ---: |");
for (const row of rows) console.log(row);
console.log("");
console.log(JSON.stringify({ bench: "intake", transactions: TXNS, events_per_transaction: EVENTS_PER_TXN, rooms: ROOMS, rounds: ROUNDS, ...results }));
// matrix-js-sdk leaves a request-timeout timer running after each request; do not wait for it.
process.exit(0);
