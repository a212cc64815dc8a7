// The database seam: one small interface over PostgreSQL (pg) and the embedded PGlite store.
// Both speak the same SQL; stores write portable SQL (cast bigints with ::int or ::text).

export interface Queryable {
  query<T extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Run a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: "postgres" | "pglite";
  /** Run fn in one transaction: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query within timeoutMs. */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url: string;
  dataDir: string;
  poolSize: number;
  /** Told about connections that broke while idle or in use (they are replaced). */
  onConnectionError?: (err: Error) => void;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.url !== "") {
    const { openPostgres } = await import("./postgres.ts");
    return openPostgres(opts.url, opts.poolSize, opts.onConnectionError);
  }
  const { openPglite } = await import("./pglite.ts");
  return openPglite(opts.dataDir);
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { reject(new Error(`${what} timed out after ${ms} ms`)); }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => { clearTimeout(timer); });
}

/** The database settings of the config, as openDatabase takes them. */
export function databaseOptions(config: { database: { url: string; data_dir: string; pool_size: number } }, poolSize = config.database.pool_size): DatabaseOptions {
  return { url: config.database.url, dataDir: config.database.data_dir, poolSize };
}
