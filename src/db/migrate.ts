// Numbered SQL migrations (src/db/migrations/NNNN_name.sql). Each one runs in a single
// transaction together with its version bump; a database newer than the code is refused.
import { readdirSync, readFileSync } from "node:fs";
import type { Database } from "./database.ts";

const DIR = new URL("./migrations/", import.meta.url);
// Any fixed number: serialises concurrent migrators on PostgreSQL.
const LOCK_KEY = 7_105_040_101;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(): Migration[] {
  return readdirSync(DIR)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file, i) => {
      const version = Number(file.slice(0, 4));
      if (version !== i + 1) throw new Error(`migration ${file} is out of sequence (expected ${i + 1})`);
      return { version, name: file.slice(5, -4), sql: readFileSync(new URL(file, DIR), "utf8") };
    });
}

export class DatabaseTooNewError extends Error {}

/** Applies pending migrations; returns the versions applied. */
export async function migrate(db: Database, migrations = loadMigrations()): Promise<number[]> {
  const latest = migrations.length;
  const applied: number[] = [];
  await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [LOCK_KEY]);
    await tx.exec("CREATE TABLE IF NOT EXISTS schema_version (version int NOT NULL)");
    const rows = await tx.query<{ version: number }>("SELECT version FROM schema_version");
    if (rows.length === 0) await tx.query("INSERT INTO schema_version (version) VALUES (0)");
    const current = rows[0]?.version ?? 0;
    if (current > latest) {
      throw new DatabaseTooNewError(
        `the database is at schema version ${current}, newer than this Loket (${latest}); upgrade Loket`,
      );
    }
    for (const m of migrations.filter((x) => x.version > current)) {
      await tx.exec(m.sql);
      await tx.query("UPDATE schema_version SET version = $1", [m.version]);
      applied.push(m.version);
    }
  });
  return applied;
}
