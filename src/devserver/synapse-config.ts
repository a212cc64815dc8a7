// Builds the throwaway homeserver.yaml and log config used by the dev/test Synapse.
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";

export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  database: string;
}

export interface ConfigParams {
  dataDir: string;
  serverName: string;
  port: number;
  /** Addresses the client listener binds to (default 127.0.0.1 only). */
  bindAddresses?: string[];
  /** Default http://127.0.0.1:port/. */
  publicBaseUrl?: string;
  appserviceConfigFiles: string[];
  extraConfig: Record<string, unknown>;
  postgres: PostgresTarget | undefined;
  /** A second listener with TLS serving federation (and keys) on this port; needs TLS keys in extraConfig. */
  federationPort?: number;
}

export interface WrittenConfig {
  configFile: string;
  logFile: string;
  registrationSharedSecret: string;
  /** SQLite database file, or undefined when Postgres is used. */
  sqliteFile: string | undefined;
  signingKeyFile: string;
}

// Every rate limiter Synapse 1.163 reads (synapse/config/ratelimiting.py).
const RATELIMIT_KEYS = [
  "rc_message",
  "rc_registration",
  "rc_registration_token_validity",
  "rc_login.address",
  "rc_login.account",
  "rc_login.failed_attempts",
  "rc_admin_redaction",
  "rc_joins.local",
  "rc_joins.remote",
  "rc_joins_per_room",
  "rc_key_requests",
  "rc_3pid_validation",
  "rc_invites.per_room",
  "rc_invites.per_user",
  "rc_invites.per_issuer",
  "rc_third_party_invite",
  "rc_media_create",
  "rc_presence.per_user",
  "rc_delayed_event_mgmt",
  "rc_room_creation",
  "rc_reports",
  "rc_user_directory",
  "rc_profile",
];

function ratelimitsOff(): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {};
  const unlimited = { per_second: 10_000, burst_count: 100_000 };
  for (const key of RATELIMIT_KEYS) {
    const [top, sub] = key.split(".") as [string, string | undefined];
    if (sub === undefined) out[top] = unlimited;
    else out[top] = { ...out[top], [sub]: unlimited };
  }
  return out;
}

function databaseSection(params: ConfigParams, sqliteFile: string): Record<string, unknown> {
  const pg = params.postgres;
  if (pg === undefined) return { name: "sqlite3", args: { database: sqliteFile } };
  return {
    name: "psycopg2",
    allow_unsafe_locale: true,
    args: { user: pg.user, host: pg.host, port: pg.port, database: pg.database, cp_min: 1, cp_max: 5 },
  };
}

function federationListener(port: number): Record<string, unknown> {
  const resources = [{ names: ["federation"], compress: false }];
  return { port, bind_addresses: ["127.0.0.1"], type: "http", tls: true, x_forwarded: false, resources };
}

function logConfig(logFile: string): Record<string, unknown> {
  return {
    version: 1,
    formatters: {
      precise: {
        format: "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s",
      },
    },
    handlers: {
      // Unbuffered, so the log is complete when the process dies early.
      file: { class: "logging.FileHandler", formatter: "precise", filename: logFile, encoding: "utf8" },
    },
    loggers: { "synapse.storage.SQL": { level: "INFO" } },
    root: { level: "INFO", handlers: ["file"] },
    disable_existing_loggers: false,
  };
}

/** Write homeserver.yaml and its log config into `params.dataDir`. */
export async function writeSynapseConfig(params: ConfigParams): Promise<WrittenConfig> {
  const { dataDir, serverName, port } = params;
  const configFile = join(dataDir, "homeserver.yaml");
  const logConfigFile = join(dataDir, "log.config.yaml");
  const logFile = join(dataDir, "homeserver.log");
  const sqliteFile = join(dataDir, "homeserver.db");
  const signingKeyFile = join(dataDir, "signing.key");
  const registrationSharedSecret = randomBytes(24).toString("hex");

  const config: Record<string, unknown> = {
    server_name: serverName,
    public_baseurl: params.publicBaseUrl ?? `http://127.0.0.1:${port}/`,
    pid_file: join(dataDir, "homeserver.pid"),
    listeners: [
      {
        port,
        bind_addresses: params.bindAddresses ?? ["127.0.0.1"],
        type: "http",
        tls: false,
        x_forwarded: false,
        // "client" also serves /_synapse/admin on the main process.
        resources: [{ names: ["client"], compress: false }],
      },
      ...(params.federationPort === undefined ? [] : [federationListener(params.federationPort)]),
    ],
    database: databaseSection(params, sqliteFile),
    log_config: logConfigFile,
    media_store_path: join(dataDir, "media_store"),
    signing_key_path: signingKeyFile,
    registration_shared_secret: registrationSharedSecret,
    report_stats: false,
    trusted_key_servers: [],
    suppress_key_server_warning: true,
    enable_registration: false,
    bcrypt_rounds: 4,
    presence: { enabled: false },
    url_preview_enabled: false,
    enable_metrics: false,
    app_service_config_files: params.appserviceConfigFiles,
    ...ratelimitsOff(),
    ...params.extraConfig,
  };

  await writeFile(logConfigFile, stringify(logConfig(logFile)));
  await writeFile(configFile, stringify(config, { aliasDuplicateObjects: false }));
  return {
    configFile,
    logFile,
    registrationSharedSecret,
    sqliteFile: params.postgres === undefined ? sqliteFile : undefined,
    signingKeyFile,
  };
}
