// Several real Synapses federating over TLS on loopback, each named hs-<label>.test:<port> (the
// names differ by host, not only by port, because a server ACL ignores ports), certificates from a
// throwaway CA, and optionally a Loket per homeserver started in-process with start(config).
// On PostgreSQL when DATABASE_URL is set (a database per Synapse and per Loket), else SQLite and
// PGlite.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import YAML from "yaml";
import { start, type LoketApp } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { federationConfig, loopbackResolverEnv } from "../../src/devserver/federation.ts";
import { makeFederationCertificates } from "../../src/devserver/federation-tls.ts";
import { freePort } from "../../src/devserver/ports.ts";
import { startSynapse, type RunningSynapse } from "../../src/devserver/synapse.ts";
import { ensureSynapseVenv } from "../../src/devserver/venv.ts";
import { buildRegistration } from "../../src/matrix/registration.ts";
import { SYNAPSE_VENV } from "./paths.ts";
import { createTestDatabase, postgresServerUrl, type TestDatabase } from "./postgres.ts";

export interface FederatedServerOptions {
  /** `a` names the homeserver hs-a.test:<port>. */
  label: string;
  /** Municipalities of this server's Loket; given: the server gets Loket's registration. */
  municipalities?: Record<string, unknown>[];
}

export interface FederatedServer {
  readonly label: string;
  /** The host name, as a server ACL matches it: `hs-a.test`. */
  readonly host: string;
  /** The server name, port included: `hs-a.test:8481`. */
  readonly serverName: string;
  readonly synapse: RunningSynapse;
  /** The running Loket (throws when none runs). */
  readonly loket: LoketApp;
  /** The config of the last Loket start. */
  readonly config: Config;
  /** `@localpart:serverName`. */
  userId(localpart: string): string;
  /** (Re)starts this server's Loket with `extra` top-level config keys (federation, ...) over the base. */
  startLoket(extra?: Record<string, unknown>): Promise<LoketApp>;
  stopLoket(): Promise<void>;
}

export interface Federation {
  readonly servers: ReadonlyMap<string, FederatedServer>;
  server(label: string): FederatedServer;
  /** Keep the data directory (logs of every Synapse and Loket) after stop. */
  keepData(): void;
  stop(): Promise<void>;
}

interface Slot {
  opts: FederatedServerOptions;
  host: string;
  serverName: string;
  clientPort: number;
  loketPort: number;
  dir: string;
  base?: Record<string, unknown>;
  synapseDb?: TestDatabase;
  loketDb?: TestDatabase;
}

async function allocate(opts: FederatedServerOptions, root: string, serverUrl: string | undefined): Promise<Slot> {
  const host = `hs-${opts.label}.test`;
  const [fedPort, clientPort, loketPort] = [await freePort(), await freePort(), await freePort()];
  const slot: Slot = { opts, host, serverName: `${host}:${fedPort}`, clientPort, loketPort, dir: join(root, opts.label) };
  mkdirSync(slot.dir, { recursive: true });
  if (serverUrl !== undefined) slot.synapseDb = await createTestDatabase(serverUrl, { forSynapse: true });
  if (opts.municipalities !== undefined) {
    if (serverUrl !== undefined) slot.loketDb = await createTestDatabase(serverUrl);
    slot.base = {
      homeserver: { url: `http://127.0.0.1:${clientPort}`, domain: slot.serverName },
      appservice: {
        port: loketPort,
        public_url: `http://127.0.0.1:${loketPort}`,
        as_token: randomBytes(16).toString("hex"),
        hs_token: randomBytes(16).toString("hex"),
      },
      database: { url: slot.loketDb?.url ?? "", data_dir: join(slot.dir, "pglite") },
      municipalities: opts.municipalities,
      logging: { level: "debug", file: join(slot.dir, "loket.log") },
    };
  }
  return slot;
}

function fedPortOf(slot: Slot): number {
  return Number(slot.serverName.slice(slot.host.length + 1));
}

/** Starts one Synapse per entry (in parallel), all trusting one throwaway CA; no Loket yet. */
export async function startFederation(servers: readonly FederatedServerOptions[]): Promise<Federation> {
  const root = mkdtempSync(join(tmpdir(), "loket-fed-"));
  const serverUrl = postgresServerUrl();
  const python = await ensureSynapseVenv(SYNAPSE_VENV);
  const slots: Slot[] = [];
  for (const opts of servers) slots.push(await allocate(opts, root, serverUrl));
  const certs = await makeFederationCertificates(python, join(root, "tls"), slots.map((s) => s.host));
  const env = await loopbackResolverEnv(join(root, "python"));
  let keep = process.env.LOKET_KEEP_TEST_DATA === "1";

  const synapses = await Promise.all(slots.map(async (slot) => {
    const registrations: string[] = [];
    if (slot.base !== undefined) {
      const file = join(slot.dir, "registration.yaml");
      const { config } = parseConfig(slot.base);
      writeFileSync(file, YAML.stringify(buildRegistration(config)));
      registrations.push(file);
    }
    const certificate = certs.servers[slot.host];
    if (certificate === undefined) throw new Error(`no certificate for ${slot.host}`);
    const db = slot.synapseDb;
    return startSynapse({
      venvDir: SYNAPSE_VENV,
      dataDir: join(slot.dir, "synapse"),
      serverName: slot.serverName,
      port: slot.clientPort,
      federationPort: fedPortOf(slot),
      env,
      dbTemplateName: "federation.test",
      appserviceConfigFiles: registrations,
      extraConfig: federationConfig({ caFile: certs.caFile, certificate }),
      postgres: db && { host: db.host, port: db.port, user: db.user, database: db.name },
    });
  }));

  const map = new Map<string, FederatedServer>();
  const lokets: (() => Promise<void>)[] = [];
  slots.forEach((slot, i) => {
    const synapse = synapses[i] as RunningSynapse;
    let loket: LoketApp | undefined;
    let config: Config | undefined;
    const stopLoket = async (): Promise<void> => {
      await loket?.stop();
      loket = undefined;
    };
    lokets.push(stopLoket);
    map.set(slot.opts.label, {
      label: slot.opts.label,
      host: slot.host,
      serverName: slot.serverName,
      synapse,
      get loket(): LoketApp {
        if (!loket) throw new Error(`no Loket runs on ${slot.serverName}`);
        return loket;
      },
      get config(): Config {
        if (!config) throw new Error(`Loket on ${slot.serverName} was never started`);
        return config;
      },
      userId: (localpart) => `@${localpart}:${slot.serverName}`,
      stopLoket,
      async startLoket(extra = {}) {
        if (slot.base === undefined) throw new Error(`${slot.serverName} has no municipalities, so no Loket`);
        await stopLoket();
        config = parseConfig({ ...slot.base, ...extra }).config;
        const logger = pino({ level: "debug" }, pino.destination({ dest: config.logging.file, sync: true }));
        loket = await start(config, { logger, retryMs: 500 });
        return loket;
      },
    });
  });

  return {
    servers: map,
    server(label) {
      const s = map.get(label);
      if (!s) throw new Error(`no server labelled ${label}`);
      return s;
    },
    keepData() {
      keep = true;
    },
    async stop() {
      for (const stopLoket of lokets) await stopLoket();
      await Promise.all(synapses.map((s) => s.stop()));
      for (const slot of slots) {
        await slot.loketDb?.drop();
        await slot.synapseDb?.drop();
      }
      if (keep) console.warn(`[harness] kept the federation's Synapse and Loket logs in ${root}`);
      else rmSync(root, { recursive: true, force: true });
    },
  };
}
