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
import { publicationRules } from "../../src/rooms/publication.ts";
import type { Clock } from "../../src/scheduler/scheduler.ts";
import { SYNAPSE_VENV } from "./paths.ts";
import { createTestDatabase, postgresServerUrl, type TestDatabase } from "./postgres.ts";

export const SERVER_NAME = "loket.test";

export interface StackOptions {
  /** Use this PostgreSQL URL for Loket (the test owns the database). */
  databaseUrl?: string;
  municipalities?: Record<string, unknown>[];
  appservice?: Record<string, unknown>;
  homeserver?: Record<string, unknown>;
  crypto?: Record<string, unknown>;
  archive?: Record<string, unknown>;
  conversations?: Record<string, unknown>;
  /** The clock of office hours and timers (tests move it; default: the system's). */
  clock?: Clock;
  /** The URL Loket uses to reach Synapse, given Synapse's port (for a proxy in between). */
  homeserverUrl?: (synapsePort: number) => Promise<string>;
  /** Start Synapse only; Loket starts with the first restartLoket() (benchmarks time it). */
  deferLoket?: boolean;
}

export interface Stack {
  synapse: RunningSynapse;
  config: Config;
  loket: LoketApp;
  dataDir: string;
  /**
   * Stop Loket (if running) and start it again on the same store; with `municipalities`, on a
   * changed config (the bots must stay the same: Synapse keeps the registration it started with).
   */
  restartLoket(municipalities?: Record<string, unknown>[]): Promise<LoketApp>;
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

  const tokens = { as_token: randomBytes(16).toString("hex"), hs_token: randomBytes(16).toString("hex") };
  const hsUrl = opts.homeserverUrl ? await opts.homeserverUrl(synapsePort) : `http://127.0.0.1:${synapsePort}`;
  const configFor = (municipalities: Record<string, unknown>[]): Config => parseConfig({
    homeserver: { url: hsUrl, domain: SERVER_NAME, ...opts.homeserver },
    appservice: {
      port: loketPort,
      public_url: `http://127.0.0.1:${loketPort}`,
      ...tokens,
      ...opts.appservice,
    },
    database: { url: opts.databaseUrl ?? db?.url ?? "", data_dir: join(dataDir, "pglite") },
    municipalities,
    ...(opts.crypto ? { crypto: opts.crypto } : {}),
    archive: { blob_dir: join(dataDir, "blobs"), ...opts.archive },
    ...(opts.conversations ? { conversations: opts.conversations } : {}),
    logging: { level: "debug", file: join(dataDir, "loket.log") },
  }).config;
  let config = configFor(opts.municipalities ?? [TEST_MUNICIPALITY]);
  const registrationFile = join(dataDir, "registration.yaml");
  writeFileSync(registrationFile, YAML.stringify(buildRegistration(config)));

  const synapse = await startSynapse({
    venvDir: SYNAPSE_VENV,
    dataDir: join(dataDir, "synapse"),
    serverName: SERVER_NAME,
    port: synapsePort,
    appserviceConfigFiles: [registrationFile],
    extraConfig: { room_list_publication_rules: publicationRules(config) },
    postgres: synapseDb && { host: synapseDb.host, port: synapseDb.port, user: synapseDb.user, database: synapseDb.name },
  });

  const logger = pino({ level: "debug" }, pino.destination({ dest: config.logging.file, sync: true }));
  const boot = (): Promise<LoketApp> => start(config, { logger, retryMs: 500, ...(opts.clock ? { clock: opts.clock } : {}) });
  let loket: LoketApp | undefined = opts.deferLoket ? undefined : await boot();
  let keep = process.env.LOKET_KEEP_TEST_DATA === "1";

  const stack: Stack = {
    synapse,
    get config(): Config {
      return config;
    },
    get loket(): LoketApp {
      if (!loket) throw new Error("Loket is not running");
      return loket;
    },
    dataDir,
    async restartLoket(municipalities) {
      await stack.stopLoket();
      if (municipalities) config = configFor(municipalities);
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
