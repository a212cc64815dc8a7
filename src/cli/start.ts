// `loket start` and `loket migrate`.
import { start } from "../app.ts";
import { nonDefaultSettings } from "../config/describe.ts";
import { loadConfigFile } from "../config/load.ts";
import { databaseOptions, openDatabase } from "../db/database.ts";
import { migrate } from "../db/migrate.ts";
import { createLogger } from "../logging.ts";

export async function runStart(configFile: string): Promise<number> {
  const { config, warnings } = loadConfigFile(configFile);
  const log = createLogger(config.logging);
  for (const w of warnings) log.warn(w);
  log.info({ settings: nonDefaultSettings(config) }, `configuration from ${configFile} (non-default keys)`);
  const app = await start(config, { logger: log });
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
  const db = await openDatabase(databaseOptions(config, 1));
  try {
    const applied = await migrate(db);
    console.log(applied.length === 0 ? "database is up to date" : `applied migrations ${applied.join(", ")}`);
  } finally {
    await db.close();
  }
  return 0;
}
