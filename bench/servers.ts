// The servers the intake benchmark measures: Loket (on PostgreSQL or PGlite), "the limit" (a
// server that stores each transaction with one INSERT and one commit before its 200, which is
// what durable intake cannot beat) and a bare HTTP server that only acknowledges. Each run
// floods one with the given transaction bodies.
import { randomBytes } from "node:crypto";
import { fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import pg from "pg";
import { start } from "../src/app.ts";
import { postgresCpuMs, selfCpuMs, type CpuSpent } from "./cpu.ts";
import { parseConfig } from "../src/config/load.ts";
import type { Database } from "../src/db/database.ts";

export const HS_TOKEN = randomBytes(16).toString("hex");

export interface RunResult {
  ackSeconds: number;
  processedSeconds: number;
  /** CPU milliseconds spent from the first request until everything was processed. */
  cpu: CpuSpent;
}

/** A flood's outcome: seconds until all were acknowledged, and the client's CPU milliseconds. */
export interface Flooded {
  seconds: number;
  clientCpuMs: number;
}

/**
 * Sends every body with `concurrency` requests in flight from a client process of its own
 * (bench/flood-client.ts), as Synapse sends from its own process; returns seconds until all were
 * acknowledged, and the client's CPU. `onStart` runs when the client starts sending.
 */
export async function flood(baseUrl: string, bodies: string[], concurrency: number, onStart?: () => void): Promise<Flooded> {
  const dir = mkdtempSync(join(tmpdir(), "loket-flood-"));
  const file = join(dir, "bodies.json");
  writeFileSync(file, JSON.stringify(bodies));
  const child = fork(fileURLToPath(new URL("./flood-client.ts", import.meta.url)), [baseUrl, file, String(concurrency), HS_TOKEN]);
  try {
    return await new Promise<Flooded>((resolve, reject) => {
      child.on("message", (msg: unknown) => {
        if (msg === "ready") {
          onStart?.();
          child.send("go");
          return;
        }
        const m = msg as { seconds?: number; cpuMs?: number; error?: string };
        if (m.seconds !== undefined) resolve({ seconds: m.seconds, clientCpuMs: m.cpuMs ?? 0 });
        else reject(new Error(`flood client: ${m.error ?? "no result"}`));
      });
      child.on("exit", (code) => { reject(new Error(`flood client exited with ${code}`)); });
    });
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Floods `baseUrl` and measures: seconds until all were acknowledged, seconds until `processed`
 * resolves (without it: acknowledged is processed), and the CPU of this process, of the load
 * generator and (with `postgres`) of PostgreSQL over that time.
 */
export async function measure(baseUrl: string, bodies: string[], concurrency: number, opts: { processed?: () => Promise<void>; postgres: boolean }): Promise<RunResult> {
  let started = 0;
  let cpu0 = 0;
  let pg0 = 0;
  const f = await flood(baseUrl, bodies, concurrency, () => { started = performance.now(); cpu0 = selfCpuMs(); pg0 = postgresCpuMs() ?? 0; });
  await opts.processed?.();
  const processedSeconds = opts.processed ? (performance.now() - started) / 1000 : f.seconds;
  const pg1 = opts.postgres ? postgresCpuMs() : undefined;
  const cpu: CpuSpent = { server: selfCpuMs() - cpu0, client: f.clientCpuMs, ...(pg1 === undefined ? {} : { postgres: pg1 - pg0 }) };
  return { ackSeconds: f.seconds, processedSeconds, cpu };
}

/** Serves on a free port of 127.0.0.1; returns the base URL and a close(). */
export async function serveLocal(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => { r(); })) };
}

/**
 * A reference server: stores each request's body with one INSERT (autocommit, synchronous
 * commit) into `txns`, then answers 200. With `stored`, the INSERT returns the row's seq, and
 * `stored` is told of each transaction after its 200.
 */
export function storingServer(pool: pg.Pool, stored?: (seq: number, body: Buffer) => void): Server {
  const sql = `INSERT INTO txns (txn_id, body) VALUES ($1, $2)${stored ? " RETURNING seq" : ""}`;
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      pool.query<{ seq: string }>(sql, [req.url ?? "", body]).then(
        (r) => {
          res.writeHead(200, { "content-type": "application/json" }).end("{}");
          stored?.(Number(r.rows[0]?.seq), body);
        },
        () => { res.writeHead(503).end(); },
      );
    });
  });
}

export async function runBare(bodies: string[], concurrency: number): Promise<RunResult> {
  const server = await serveLocal(createServer((req, res) => {
    req.resume();
    req.on("end", () => { res.writeHead(200, { "content-type": "application/json" }).end("{}"); });
  }));
  try {
    return await measure(server.url, bodies, concurrency, { postgres: false });
  } finally {
    await server.close();
  }
}

/** A fresh database on the PostgreSQL server; drop() removes it. */
export async function scratchDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `loket_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** The limit: read the body, one INSERT (autocommit, synchronous commit), then 200. */
export async function runLimit(serverUrl: string, bodies: string[], concurrency: number): Promise<RunResult> {
  const db = await scratchDatabase(serverUrl);
  const pool = new pg.Pool({ connectionString: db.url, max: concurrency });
  // Dropping the database may still reach a connection that is closing.
  pool.on("error", () => undefined);
  await pool.query("CREATE TABLE txns (seq bigserial PRIMARY KEY, txn_id text NOT NULL, body bytea NOT NULL)");
  const server = await serveLocal(storingServer(pool));
  try {
    return await measure(server.url, bodies, concurrency, { postgres: true });
  } finally {
    await server.close();
    await pool.end();
    await db.drop();
  }
}

/** What a Loket run needs beyond the defaults: config (municipalities) and rows that exist before the flood. */
export interface LoketSetup {
  config?: Record<string, unknown>;
  seed?(db: Database): Promise<void>;
  /** Checked after the run (for example: the archive holds every event it should). */
  check?(db: Database): Promise<void>;
}

export async function runLoket(store: "postgres" | "pglite", serverUrl: string, bodies: string[], concurrency: number, setup: LoketSetup = {}): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "loket-bench-"));
  const db = store === "postgres" ? await scratchDatabase(serverUrl) : undefined;
  const url = db?.url ?? "";
  const { config } = parseConfig({
    homeserver: { url: "http://127.0.0.1:9", domain: "bench.test" },
    appservice: { port: 0, as_token: randomBytes(16).toString("hex"), hs_token: HS_TOKEN },
    database: { url, data_dir: join(dir, "pglite") },
    archive: { blob_dir: join(dir, "blobs") },
    ...setup.config,
  });
  const app = await start(config, { logger: pino({ level: "silent" }) });
  try {
    await setup.seed?.(app.database);
    const result = await measure(app.url, bodies, concurrency, { processed: () => app.idle(), postgres: store === "postgres" });
    const [row] = await app.database.query<{ n: number }>("SELECT count(*)::int AS n FROM inbox_transactions WHERE processed_at IS NOT NULL");
    if (row?.n !== bodies.length) throw new Error(`expected ${bodies.length} processed transactions, found ${row?.n ?? 0}`);
    await setup.check?.(app.database);
    return result;
  } finally {
    await app.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}
