// PostgreSQL through a pg pool. Broken connections are dropped from the pool, so the database
// coming back is picked up without a restart.
import pg from "pg";
import { withTimeout, type Database, type Queryable } from "./database.ts";

export function openPostgres(url: string, poolSize: number, onError: (err: Error) => void = () => undefined): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5_000,
    query_timeout: 30_000,
    idleTimeoutMillis: 30_000,
  });
  // A client whose connection dies emits 'error' (on the pool while idle, on the client while
  // checked out); without a listener that would crash the process. The next query simply
  // opens a new connection.
  pool.on("error", onError);

  const run = (client: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T extends object>(sql: string, params: unknown[] = []) {
      const res = await client.query(sql, params);
      return res.rows as T[];
    },
    async exec(script: string) {
      await client.query(script);
    },
  });

  return {
    kind: "postgres",
    ...run(pool),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      client.on("error", onError);
      let broken: Error | undefined;
      try {
        await client.query("BEGIN");
        const result = await fn(run(client));
        await client.query("COMMIT");
        return result;
      } catch (err) {
        broken = err as Error;
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      } finally {
        // Passing the error destroys the connection instead of returning it to the pool.
        client.off("error", onError);
        client.release(broken);
      }
    },
    async ping(timeoutMs = 2_000) {
      await withTimeout(pool.query("SELECT 1"), timeoutMs, "database ping");
    },
    async close() {
      await pool.end();
    },
  };
}
