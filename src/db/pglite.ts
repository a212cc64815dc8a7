// The embedded store: PGlite (PostgreSQL compiled to WASM) with its data in a directory.
import { mkdirSync } from "node:fs";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import type { Database, Queryable } from "./database.ts";

export async function openPglite(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir });

  const run = (target: PGlite | Transaction): Queryable => ({
    async query<T extends object>(sql: string, params: unknown[] = []) {
      const res = await target.query<T>(sql, params);
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
