// Start a throwaway Synapse homeserver for tests and `loket demo`.
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { freePort } from "./ports.ts";
import { registerWithSharedSecret } from "./synapse-admin.ts";
import type { RegisterOptions, RegisteredUser } from "./synapse-admin.ts";
import { writeSynapseConfig } from "./synapse-config.ts";
import type { PostgresTarget } from "./synapse-config.ts";
import { logTail, spawnSynapse, stopSynapse, waitHealthy } from "./synapse-process.ts";
import { seedSqliteFromTemplate } from "./synapse-template.ts";
import { ensureSynapseVenv } from "./venv.ts";

export type { RegisteredUser } from "./synapse-admin.ts";

export interface SynapseOptions {
  venvDir: string;
  dataDir: string;
  serverName: string;
  /** 0 or undefined: pick a free port. */
  port?: number;
  /** Addresses the listener binds to besides (or instead of, for 0.0.0.0) 127.0.0.1. */
  bindAddresses?: string[];
  /** The URL clients use (Synapse's public_baseurl); default http://127.0.0.1:port/. */
  publicBaseUrl?: string;
  appserviceConfigFiles?: string[];
  /** Merged shallowly over the generated homeserver.yaml at top level. */
  extraConfig?: Record<string, unknown>;
  /** Default: an SQLite file in dataDir. The database must exist (non-C collation only warns). */
  postgres?: PostgresTarget;
  /** Progress messages (venv creation, startup). */
  log?: (msg: string) => void;
  /**
   * SQLite only: start from a cached, fully migrated empty database (default
   * true). Ignored when dataDir already holds a database.
   */
  useDbTemplate?: boolean;
  /** Port of a TLS federation listener (see federation.ts); none by default. */
  federationPort?: number;
  /** Extra environment for the Synapse process (the loopback resolver shim's PYTHONPATH). */
  env?: Record<string, string>;
  /** Name of the cached SQLite template to start from; default serverName. */
  dbTemplateName?: string;
  /** Overall startup timeout; default 120 s. */
  startTimeoutMs?: number;
}

export interface RunningSynapse {
  baseUrl: string;
  serverName: string;
  port: number;
  logFile: string;
  configFile: string;
  registrationSharedSecret: string;
  registerUser(
    localpart: string,
    password: string,
    opts?: { admin?: boolean; displayname?: string },
  ): Promise<RegisteredUser>;
  stop(): Promise<void>;
  /** Stops Synapse and starts it again on the same config, port and data (its caches are gone). */
  restart(): Promise<void>;
}

const PORT_ATTEMPTS = 3;

/** Start Synapse and wait until /health answers 200. */
export async function startSynapse(opts: SynapseOptions): Promise<RunningSynapse> {
  const log = opts.log ?? (() => undefined);
  const python = await ensureSynapseVenv(opts.venvDir, log);
  const dataDir = resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true });
  const fixedPort = opts.port !== undefined && opts.port !== 0 ? opts.port : undefined;

  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? (await freePort());
    const written = await writeSynapseConfig({
      dataDir,
      serverName: opts.serverName,
      port,
      bindAddresses: opts.bindAddresses,
      publicBaseUrl: opts.publicBaseUrl,
      appserviceConfigFiles: (opts.appserviceConfigFiles ?? []).map((f) => resolve(f)),
      extraConfig: opts.extraConfig ?? {},
      postgres: opts.postgres,
      federationPort: opts.federationPort,
    });
    if (written.sqliteFile !== undefined && opts.useDbTemplate !== false) {
      const { venvDir } = opts;
      const serverName = opts.dbTemplateName ?? opts.serverName;
      await seedSqliteFromTemplate({ python, venvDir, serverName, sqliteFile: written.sqliteFile, log });
    }
    const baseUrl = `http://127.0.0.1:${port}`;
    const started = Date.now();
    log(`starting Synapse for ${opts.serverName} on ${baseUrl} (log: ${written.logFile})`);
    const proc = spawnSynapse(python, written.configFile, dataDir, written.logFile, opts.env);
    try {
      await waitHealthy(baseUrl, proc, opts.startTimeoutMs ?? 120_000, written.logFile);
    } catch (err) {
      await stopSynapse(proc, 2_000);
      // A free port may have been taken between freePort() and Synapse's bind.
      const portRace = (await logTail(written.logFile, 10)).includes("Address already in use");
      if (fixedPort === undefined && portRace && attempt < PORT_ATTEMPTS) continue;
      throw err;
    }
    log(`Synapse healthy after ${Date.now() - started} ms`);

    let stopping: Promise<void> | undefined;
    let child = proc;
    return {
      baseUrl,
      serverName: opts.serverName,
      port,
      logFile: written.logFile,
      configFile: written.configFile,
      registrationSharedSecret: written.registrationSharedSecret,
      registerUser: (localpart: string, password: string, regOpts?: RegisterOptions) =>
        registerWithSharedSecret(baseUrl, written.registrationSharedSecret, localpart, password, regOpts),
      stop: () => (stopping ??= stopSynapse(child)),
      async restart() {
        await stopSynapse(child);
        child = spawnSynapse(python, written.configFile, dataDir, written.logFile);
        await waitHealthy(baseUrl, child, opts.startTimeoutMs ?? 120_000, written.logFile);
      },
    };
  }
}
