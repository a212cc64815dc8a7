// `loket start` and `loket migrate`.
import { start } from "../app.ts";
import { nonDefaultSettings } from "../config/describe.ts";
import { loadConfigFile } from "../config/load.ts";
import { databaseOptions, openDatabase } from "../db/database.ts";
import { migrate } from "../db/migrate.ts";
import { pino } from "pino";
import { createLogger, type Logger } from "../logging.ts";
import { asDatabaseError, checkDatabase } from "./database-check.ts";

export async function runStart(configFile: string, opts: { allowUnknownKeys: boolean }): Promise<number> {
  const { config, warnings } = loadConfigFile(configFile, process.env, { allowUnknownKeys: opts.allowUnknownKeys });
  const log = createLogger(config.logging);
  for (const w of warnings) log.warn(w);
  log.info({ settings: nonDefaultSettings(config) }, `configuration from ${configFile} (non-default keys)`);
  const app = await (async () => {
    await checkDatabase(config);
    return start(config, { logger: log });
  })().catch(async (err: unknown) => {
    await logOpened(log);
    throw asDatabaseError(err);
  });
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string): void => {
      log.info({ signal }, "shutting down: finishing transactions in flight");
      resolve();
    };
    process.once("SIGTERM", shutdown);
    process.once("SIGINT", shutdown);
  });
  await app.stop();
  return 0;
}

export async function runMigrate(configFile: string): Promise<number> {
  const { config } = loadConfigFile(configFile);
  await checkDatabase(config);
  const db = await openDatabase(databaseOptions(config, 1));
  try {
    const applied = await migrate(db).catch((err: unknown) => { throw asDatabaseError(err); });
    console.log(applied.length === 0 ? "database is up to date" : `applied migrations ${applied.join(", ")}`);
  } finally {
    await db.close();
  }
  return 0;
}

/**
 * Waits until a log file is open: pino opens it asynchronously, and exiting before that (a
 * start-up failure within milliseconds) would crash in its exit handler.
 */
async function logOpened(log: Logger): Promise<void> {
  const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as { fd?: number; once?: (event: string, fn: () => void) => void } | undefined;
  if (stream?.once === undefined || (stream.fd ?? 0) >= 0) return;
  const once = stream.once.bind(stream);
  await new Promise<void>((resolve) => {
    once("ready", resolve);
    once("error", resolve);
  });
}
