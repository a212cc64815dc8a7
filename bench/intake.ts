// Transaction intake benchmark: floods PUT /_matrix/app/v1/transactions with synthetic
// transactions (100 events each) and measures events/s acknowledged and processed by Loket on
// PostgreSQL and on PGlite, beside, in the same run:
//  - "the limit": a server that stores each transaction with one INSERT and one commit on the
//    same PostgreSQL before its 200 (what durable intake cannot beat);
//  - "the limit, then rows" (bench/reference-rows.ts): the limit, plus one row per archived event
//    in Loket's archive_records table and a processed mark, written after the 200 (no hashing,
//    no queue): what any design that keeps one archive row per event must at least do;
//  - a bare HTTP server that only acknowledges.
// The load generator runs in a process of its own (bench/flood-client.ts), as Synapse does, and
// a second table gives the CPU each party spent per transaction. Concurrency 1 is how Synapse
// sends (one transaction at a time); 4 shows the headroom. Targets: Loket on PostgreSQL,
// processed (routed, archived, marked), at least 0.9 of the limit (issue 5), and 0.8 with
// archiving (issue 9).
//
// The events are what Synapse sends an appservice whose namespace is its bots: messages in rooms
// a bot is in. Of the rooms, a share (--loket, default 0.8) are Loket's, seeded in the database
// before the flood, and each of their events is archived: conversations held in the citizen's
// DM with the bot, conversations in rooms of their own, and department rooms, over two
// municipalities (two hash chains); the rest are rooms Loket does not know (a staff room a bot
// was invited to), whose events are routed but not archived. Citizens and staff alternate in
// conversations under way (each citizen message starts a term of the queue, each staff reply ends it);
// no event is a command, a membership change or a bot's own (those call the homeserver, which
// the benchmark does not have).
//   npm run bench [-- --transactions 300 --concurrency 1,4 --rooms 50 --loket 0.8 --rounds 3 --servers bare,limit,rows,postgres,pglite]
import { parseArgs } from "node:util";
import type { Database } from "../src/db/database.ts";
import { runRows } from "./reference-rows.ts";
import { runBare, runLimit, runLoket, type LoketSetup, type RunResult } from "./servers.ts";

const { values } = parseArgs({
  options: {
    transactions: { type: "string", default: "300" },
    concurrency: { type: "string", default: "1,4" },
    rooms: { type: "string", default: "50" },
    loket: { type: "string", default: "0.8" },
    rounds: { type: "string", default: "3" },
    servers: { type: "string", default: "bare,limit,rows,postgres,pglite" },
  },
});
const TXNS = Number(values.transactions);
const LEVELS = values.concurrency.split(",").map(Number);
const ROOMS = Number(values.rooms);
const LOKET_ROOMS = Math.round(ROOMS * Number(values.loket));
const ROUNDS = Number(values.rounds);
const EVENTS_PER_TXN = 100;
const SERVER_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

type RoomKind = "dm_conversation" | "conversation" | "department" | "unknown";
const ROTATION: RoomKind[] = ["dm_conversation", "conversation", "dm_conversation", "conversation", "department"];
interface BenchRoom { id: string; kind: RoomKind; municipality: string; citizen: string; staff: string }
const MUNICIPALITIES = ["noord", "zuid"];
const rooms: BenchRoom[] = Array.from({ length: ROOMS }, (_, r) => {
  const municipality = MUNICIPALITIES[r % MUNICIPALITIES.length] ?? "noord";
  return {
    id: `!bench${r}:bench.test`, kind: r < LOKET_ROOMS ? (ROTATION[r % ROTATION.length] ?? "conversation") : "unknown",
    municipality, citizen: `@burger${r}:bench.test`, staff: `@medewerker_${municipality}:bench.test`,
  };
});
const roomOf = (t: number, i: number): BenchRoom => rooms[(t * EVENTS_PER_TXN + i) % ROOMS] as BenchRoom;
const ARCHIVED = Array.from({ length: TXNS * EVENTS_PER_TXN }, (_, k) => roomOf(0, k)).filter((r) => r.kind !== "unknown").length;

const loketSetup: LoketSetup = {
  config: {
    municipalities: MUNICIPALITIES.map((id) => ({
      id, name: `Gemeente ${id}`, bot_localpart: `gemeente_${id}`, staff: [`@medewerker_${id}:bench.test`],
      departments: [{ id: "burgerzaken", name: "Burgerzaken" }],
    })),
  },
  async seed(db: Database) {
    for (const [r, room] of rooms.entries()) {
      const bot = `@gemeente_${room.municipality}:bench.test`;
      if (room.kind === "dm_conversation" || room.kind === "conversation") {
        const dm = room.kind === "conversation" ? `!dm${r}:bench.test` : room.id;
        await db.query("INSERT INTO direct_rooms (room_id, bot, citizen) VALUES ($1, $2, $3)", [dm, bot, room.citizen]);
        await db.query(
          // Conversations under way: asked and answered before (the queue then starts a new term for
          // each citizen message and ends it at each staff reply, without calling the homeserver).
          `INSERT INTO conversations (municipality, reference, citizen, room_id, dm_room_id, department, language, queued_at, last_citizen_at, last_staff_at, assigned)
           VALUES ($1, $2, $3, $4, $5, 'burgerzaken', 'nl', now(), now(), now(), $6)`,
          [room.municipality, `${room.municipality.toUpperCase()}-2026-${r}`, room.citizen, room.id, room.kind === "conversation" ? dm : null, JSON.stringify([room.staff])],
        );
      } else if (room.kind === "department") {
        await db.query(
          `INSERT INTO managed_rooms (municipality, room_key, kind, department, room_id, alias, name, applied)
           VALUES ($1, $2, 'department', 'burgerzaken', $3, NULL, 'Burgerzaken', '{}')`,
          [room.municipality, `department:burgerzaken:${r}`, room.id],
        );
      }
    }
  },
  async check(db: Database) {
    const [row] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM archive_records");
    if (row?.n !== ARCHIVED) throw new Error(`expected ${ARCHIVED} archive records, found ${row?.n ?? 0}`);
  },
};

function transactions(run: string): string[] {
  return Array.from({ length: TXNS }, (_, t) => JSON.stringify({
    events: Array.from({ length: EVENTS_PER_TXN }, (_, i) => {
      const room = roomOf(t, i);
      const sender = room.kind === "department" || (room.kind !== "unknown" && (t + i) % 2 === 1) ? room.staff
        : room.kind === "unknown" ? "@iemand:bench.test" : room.citizen;
      return {
        event_id: `$${run}-${t}-${i}`,
        room_id: room.id,
        type: "m.room.message",
        sender,
        origin_server_ts: Date.now(),
        content: { msgtype: "m.text", body: `Vraag ${t}-${i}: wanneer wordt het grofvuil opgehaald?` },
      };
    }),
    ephemeral: [],
  }));
}

const eps = (seconds: number): number => Math.round((TXNS * EVENTS_PER_TXN) / seconds);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
type Server = "bare" | "limit" | "rows" | "postgres" | "pglite";
const LOKET_ROOM_IDS = new Set(rooms.filter((r) => r.kind !== "unknown").map((r) => r.id));
const SERVERS = values.servers.split(",") as Server[];
const run = (server: Server, bodies: string[], c: number): Promise<RunResult> => {
  if (server === "bare") return runBare(bodies, c);
  if (server === "limit") return runLimit(SERVER_URL, bodies, c);
  if (server === "rows") return runRows(SERVER_URL, bodies, c, (e) => LOKET_ROOM_IDS.has(e.room_id));
  return runLoket(server, SERVER_URL, bodies, c, loketSetup);
};

const results: Record<string, number> = {};
const rows: string[] = [];
const cpuRows: string[] = [];
const LABEL: Record<Server, string> = {
  bare: "bare HTTP server (acknowledges only)",
  limit: "the limit: one INSERT and commit per transaction on PostgreSQL",
  rows: "the limit, then one archive row per archived event (no hashing, no queue)",
  postgres: "Loket on PostgreSQL",
  pglite: "Loket on PGlite",
};
for (const c of LEVELS) {
  // Rounds interleave the servers, so that a slow moment of the machine hits all of them; each
  // figure is the median over the rounds.
  const perServer = <T>(make: () => T): Record<Server, T> => ({ bare: make(), limit: make(), rows: make(), postgres: make(), pglite: make() });
  const ack = perServer<number[]>(() => []);
  const done = perServer<number[]>(() => []);
  const cpu = perServer(() => ({ server: [] as number[], postgres: [] as number[], client: [] as number[] }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const server of SERVERS) {
      const r = await run(server, transactions(`${server}-${c}-${round}`), c);
      ack[server].push(eps(r.ackSeconds));
      done[server].push(eps(r.processedSeconds));
      cpu[server].server.push(r.cpu.server / TXNS);
      cpu[server].client.push(r.cpu.client / TXNS);
      if (r.cpu.postgres !== undefined) cpu[server].postgres.push(r.cpu.postgres / TXNS);
    }
  }
  for (const server of SERVERS) {
    const loket = server === "postgres" || server === "pglite" || server === "rows";
    results[`${server}_c${c}_ack_eps`] = median(ack[server]);
    if (loket) results[`${server}_c${c}_processed_eps`] = median(done[server]);
    rows.push(`| ${c} | ${LABEL[server]} | ${median(ack[server])} | ${loket ? median(done[server]) : "-"} |`);
    const ms = (xs: number[]): string => (xs.length ? median(xs).toFixed(2) : "-");
    cpuRows.push(`| ${c} | ${LABEL[server]} | ${ms(cpu[server].server)} | ${ms(cpu[server].postgres)} | ${ms(cpu[server].client)} |`);
    results[`${server}_c${c}_cpu_ms_per_txn`] = Number(median(cpu[server].server).toFixed(3));
    if (cpu[server].postgres.length) results[`${server}_c${c}_postgres_cpu_ms_per_txn`] = Number(median(cpu[server].postgres).toFixed(3));
  }
  const limit = results[`limit_c${c}_ack_eps`];
  const bare = results[`bare_c${c}_ack_eps`];
  const processed = results[`postgres_c${c}_processed_eps`];
  const acked = results[`postgres_c${c}_ack_eps`];
  if (limit !== undefined && processed !== undefined && acked !== undefined) {
    results[`ratio_postgres_to_limit_c${c}`] = Number((processed / limit).toFixed(2));
    results[`ratio_postgres_ack_to_limit_c${c}`] = Number((acked / limit).toFixed(2));
    rows.push(`| ${c} | Loket on PostgreSQL / the limit | ${(acked / limit).toFixed(2)} | **${(processed / limit).toFixed(2)}** |`);
  }
  const rowsDone = results[`rows_c${c}_processed_eps`];
  if (limit !== undefined && rowsDone !== undefined) {
    results[`ratio_rows_to_limit_c${c}`] = Number((rowsDone / limit).toFixed(2));
    rows.push(`| ${c} | the limit, then rows / the limit | - | ${(rowsDone / limit).toFixed(2)} |`);
  }
  // The same ratios per round (each server's figure against the limit's of the same round): the
  // machine's speed drifts less within a round than across the whole run.
  if (SERVERS.includes("limit")) {
    for (const server of ["postgres", "rows"] as const) {
      if (!SERVERS.includes(server)) continue;
      const perRound = done[server].map((d, i) => d / (ack.limit[i] ?? Number.NaN));
      results[`ratio_${server}_to_limit_c${c}_per_round`] = Number(median(perRound).toFixed(2));
      rows.push(`| ${c} | ${server === "rows" ? "the limit, then rows" : "Loket on PostgreSQL"} / the limit, per round (${perRound.map((r) => r.toFixed(2)).join(", ")}), median | - | ${median(perRound).toFixed(2)} |`);
    }
  }
  if (bare !== undefined && processed !== undefined) {
    results[`ratio_postgres_to_bare_c${c}`] = Number((processed / bare).toFixed(2));
  }
}

console.log(`\nTransaction intake: ${TXNS} transactions x ${EVENTS_PER_TXN} events over ${ROOMS} rooms (${LOKET_ROOMS} of them Loket's: ${ARCHIVED} of ${TXNS * EVENTS_PER_TXN} events archived), median of ${ROUNDS} rounds, Node ${process.version}\n`);
console.log("| in flight | server | acknowledged events/s | processed events/s |");
console.log("| ---: | --- | ---: | ---: |");
for (const row of rows) console.log(row);
console.log("\nCPU milliseconds per transaction, from the first request until all were processed (PostgreSQL: all its processes; the load generator runs in a process of its own):\n");
console.log("| in flight | server | server process | PostgreSQL | load generator |");
console.log("| ---: | --- | ---: | ---: | ---: |");
for (const row of cpuRows) console.log(row);
console.log("");
console.log(JSON.stringify({ bench: "intake", transactions: TXNS, events_per_transaction: EVENTS_PER_TXN, rooms: ROOMS, loket_rooms: LOKET_ROOMS, archived_events: ARCHIVED, rounds: ROUNDS, ...results }));
// matrix-js-sdk leaves a request-timeout timer running after each request; do not wait for it.
process.exit(0);
