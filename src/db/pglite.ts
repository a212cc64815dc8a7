// The embedded store: PGlite (PostgreSQL compiled to WASM) with its data in a directory.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import type { Database, Queryable } from "./database.ts";

// PGlite's own bytea conversion goes byte by byte in JavaScript (about 20 ms for a 22 KB
// transaction body); Buffer's native hex conversion does the same in microseconds.
const BYTEA_OID = 17;
const BYTEA = {
  serializers: { [BYTEA_OID]: (v: unknown) => `\\x${Buffer.from(v as Uint8Array).toString("hex")}` },
  parsers: { [BYTEA_OID]: (v: string) => Buffer.from(v.slice(2), "hex") },
};

export async function openPglite(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(join(dataDir, "PG_VERSION"))) await initdbInChildProcess(dataDir);
  const db = await PGlite.create({ dataDir });

  const run = (target: PGlite | Transaction): Queryable => ({
    async query<T extends object>(sql: string, params: unknown[] = []) {
      const res = await target.query<T>(sql, params, BYTEA);
      return res.rows;
    },
    async exec(script: string) {
      await target.exec(script);
    },
  });

  return {
    kind: "pglite",
    ...run(db),
    transaction: (fn) => db.transaction((tx) => fn(run(tx))),
    async ping() {
      await db.query("SELECT 1");
    },
    async close() {
      await db.close();
    },
  };
}

/**
 * A fresh data directory needs PostgreSQL's initdb, which PGlite runs synchronously in a second
 * WebAssembly instance: seconds of blocked event loop and a few hundred MB that would otherwise
 * stay in Loket's resident memory. A child process does it and gives it all back when it exits.
 */
async function initdbInChildProcess(dataDir: string): Promise<void> {
  const script = new URL("./pglite-initdb.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, [script, dataDir], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4_000); });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  if (code !== 0) throw new Error(`creating the PGlite store in ${dataDir} failed (exit ${String(code)}): ${stderr.trim()}`);
}
