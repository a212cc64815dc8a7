// The embedded store: PGlite (PostgreSQL compiled to WASM) with its data in a directory.
import { mkdirSync } from "node:fs";
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
