// Real PostgreSQL for tests: each test gets a database of its own on the server named by
// DATABASE_URL (CI sets it), dropped afterwards.
import { randomBytes } from "node:crypto";
import pg from "pg";

export const DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  url: string;
  host: string;
  port: number;
  user: string;
  name: string;
  drop(): Promise<void>;
}

export function postgresServerUrl(): string | undefined {
  return process.env.DATABASE_URL;
}

/** A fresh database; Synapse's must be UTF8 with C collation (`forSynapse`). */
export async function createTestDatabase(serverUrl: string, opts: { forSynapse?: boolean } = {}): Promise<TestDatabase> {
  const name = `${opts.forSynapse ? "synapse" : "loket"}_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const locale = opts.forSynapse ? " TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'" : "";
    await admin.query(`CREATE DATABASE ${name}${locale}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username) || "postgres",
    name,
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
