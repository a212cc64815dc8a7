// A migrated database for one describe block of a test file: a fresh PostgreSQL database, or a
// PGlite store in a temporary folder; dropped (or deleted) afterwards.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createTestDatabase, DEFAULT_SERVER_URL, postgresServerUrl, type TestDatabase } from "./postgres.ts";

export function useMigratedDatabase(kind: "postgres" | "pglite", prefix: string, poolSize = 4): { readonly db: Database } {
  let db: Database | undefined;
  let pgDb: TestDatabase | undefined;
  let dir = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    if (kind === "postgres") pgDb = await createTestDatabase(postgresServerUrl() ?? DEFAULT_SERVER_URL);
    db = await openDatabase({ url: pgDb?.url ?? "", dataDir: join(dir, "pglite"), poolSize });
    await migrate(db);
  });
  afterAll(async () => {
    await db?.close();
    await pgDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get db(): Database {
      if (!db) throw new Error("the database is not open yet");
      return db;
    },
  };
}
