// One test stack: a real Synapse with Loket's registration, and Loket itself started in-process
// with start(config), on PostgreSQL when DATABASE_URL is set, else on PGlite.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import YAML from "yaml";
import { start, type LoketApp } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { freePort } from "../../src/devserver/ports.ts";
import { startSynapse, type RunningSynapse } from "../../src/devserver/synapse.ts";
import { buildRegistration } from "../../src/matrix/registration.ts";
import { SYNAPSE_VENV } from "./paths.ts";
import { createTestDatabase, postgresServerUrl, type TestDatabase } from "./postgres.ts";

export const SERVER_NAME = "loket.test";

export interface StackOptions {
  /** Use this PostgreSQL URL for Loket (the test owns the database). */
  databaseUrl?: string;
  municipalities?: Record<string, unknown>[];
  appservice?: Record<string, unknown>;
  homeserver?: Record<string, unknown>;
  archive?: Record<string, unknown>;
  /** The URL Loket uses to reach Synapse, given Synapse's port (for a proxy in between). */
  homeserverUrl?: (synapsePort: number) => Promise<string>;
}

export interface Stack {
  synapse: RunningSynapse;
  config: Config;
  loket: LoketApp;
  dataDir: string;
  /** Stop Loket (if running) and start it again on the same store. */
  restartLoket(): Promise<LoketApp>;
  /** Stop Loket only; Synapse keeps running (and queues transactions for it). */
  stopLoket(): Promise<void>;
  /** Keep the data directory (Synapse and Loket logs) after stop: call it when a test failed. */
  keepData(): void;
  stop(): Promise<void>;
}

/** The municipality of the test stacks; `medewerker` (register it with that exact name) is its staff. */
export const TEST_MUNICIPALITY = {
  id: "test",
  name: "Gemeente Testdorp",
  bot_localpart: "gemeente_testdorp",
  departments: [{ id: "burgerzaken", name: "Burgerzaken", staff: [`@medewerker:loket.test`] }],
};

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), "loket-it-"));
  const [synapsePort, loketPort] = [await freePort(), await freePort()];
  // With DATABASE_URL, Loket and Synapse both run on PostgreSQL, as in production.
  let db: TestDatabase | undefined;
  let synapseDb: TestDatabase | undefined;
  const serverUrl = postgresServerUrl();
  if (opts.databaseUrl === undefined && serverUrl !== undefined) db = await createTestDatabase(serverUrl);
  if (serverUrl !== undefined) synapseDb = await createTestDatabase(serverUrl, { forSynapse: true });

  const { config } = parseConfig({
    homeserver: {
      url: opts.homeserverUrl ? await opts.homeserverUrl(synapsePort) : `http://127.0.0.1:${synapsePort}`,
      domain: SERVER_NAME,
      ...opts.homeserver,
    },
    appservice: {
      port: loketPort,
      public_url: `http://127.0.0.1:${loketPort}`,
      as_token: randomBytes(16).toString("hex"),
      hs_token: randomBytes(16).toString("hex"),
      ...opts.appservice,
    },
    database: { url: opts.databaseUrl ?? db?.url ?? "", data_dir: join(dataDir, "pglite") },
    municipalities: opts.municipalities ?? [TEST_MUNICIPALITY],
    archive: { blob_dir: join(dataDir, "blobs"), ...opts.archive },
    logging: { level: "debug", file: join(dataDir, "loket.log") },
  });
  const registrationFile = join(dataDir, "registration.yaml");
  writeFileSync(registrationFile, YAML.stringify(buildRegistration(config)));

  const synapse = await startSynapse({
    venvDir: SYNAPSE_VENV,
    dataDir: join(dataDir, "synapse"),
    serverName: SERVER_NAME,
    port: synapsePort,
    appserviceConfigFiles: [registrationFile],
    postgres: synapseDb && { host: synapseDb.host, port: synapseDb.port, user: synapseDb.user, database: synapseDb.name },
  });

  const logger = pino({ level: "debug" }, pino.destination({ dest: config.logging.file, sync: true }));
  const boot = (): Promise<LoketApp> => start(config, { logger, retryMs: 500 });
  let loket: LoketApp | undefined = await boot();
  let keep = process.env.LOKET_KEEP_TEST_DATA === "1";

  const stack: Stack = {
    synapse,
    config,
    get loket(): LoketApp {
      if (!loket) throw new Error("Loket is not running");
      return loket;
    },
    dataDir,
    async restartLoket() {
      await stack.stopLoket();
      loket = await boot();
      return loket;
    },
    async stopLoket() {
      await loket?.stop();
      loket = undefined;
    },
    keepData() {
      keep = true;
    },
    async stop() {
      await loket?.stop();
      loket = undefined;
      await synapse.stop();
      await db?.drop();
      await synapseDb?.drop();
      if (keep) console.warn(`[harness] kept Synapse and Loket logs in ${dataDir}`);
      else rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}
