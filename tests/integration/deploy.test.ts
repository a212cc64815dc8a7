// The files docker-compose.yml mounts, tried as far as this machine can without Docker: the
// init step's commands on the shipped Loket config (config check, registration), and the real
// Synapse of the test harness started from the shipped homeserver.yaml (container paths
// rewritten to a temporary folder, the database to the test PostgreSQL or SQLite), with the
// registration the init step writes. Synapse accepting Loket's as_token proves it loaded it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { freePort } from "../../src/devserver/ports.ts";
import { spawnSynapse, stopSynapse, waitHealthy, type SynapseChild } from "../../src/devserver/synapse-process.ts";
import { ensureSynapseVenv } from "../../src/devserver/venv.ts";
import { REPO_ROOT, SYNAPSE_VENV } from "../harness/paths.ts";
import { createTestDatabase, postgresServerUrl, type TestDatabase } from "../harness/postgres.ts";

const dir = mkdtempSync(join(tmpdir(), "loket-deploy-"));
let synapse: SynapseChild | undefined;
let database: TestDatabase | undefined;
afterAll(async () => {
  if (synapse) await stopSynapse(synapse);
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

// What loket-init generates into the secrets volume.
const asToken = "a1".repeat(32);
const hsToken = "b2".repeat(32);
writeFileSync(join(dir, "as_token"), asToken, { mode: 0o600 });
writeFileSync(join(dir, "hs_token"), hsToken, { mode: 0o600 });
const secrets = { LOKET_APPSERVICE__AS_TOKEN_FILE: join(dir, "as_token"), LOKET_APPSERVICE__HS_TOKEN_FILE: join(dir, "hs_token") };
const loketConfig = join(REPO_ROOT, "deploy/compose/loket/config.yaml");
const loket = (...args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, "bin/loket.js"), ...args], {
  encoding: "utf8", timeout: 60_000, env: { ...process.env, LOKET_CONFIG: undefined, ...secrets },
});

describe("the stack's mounted files", () => {
  it("the Loket config passes loket config check (with the tokens loket-init generates)", () => {
    const res = loket("config", "check", "-c", loketConfig);
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
  });

  it("Synapse starts from the shipped homeserver.yaml and loads Loket's registration", async () => {
    const registration = join(dir, "loket-registration.yaml");
    expect(loket("registration", "-c", loketConfig, "-o", registration).status).toBe(0);

    const shipped = YAML.parse(readFileSync(join(REPO_ROOT, "deploy/compose/synapse/homeserver.yaml"), "utf8")) as Record<string, unknown> & {
      listeners: { port: number; bind_addresses: string[] }[];
      database: { name: string; args: Record<string, unknown> };
    };
    const port = await freePort();
    const data = join(dir, "data");
    // Rewrite what only makes sense inside the containers; keep everything else as shipped.
    const rewritten = {
      ...shipped,
      public_baseurl: `http://127.0.0.1:${port}/`,
      pid_file: join(data, "homeserver.pid"),
      media_store_path: join(data, "media_store"),
      signing_key_path: join(data, "signing.key"),
      log_config: join(REPO_ROOT, "deploy/compose/synapse/log.config.yaml"),
      listeners: shipped.listeners.map((l) => ({ ...l, port, bind_addresses: ["127.0.0.1"] })),
      app_service_config_files: [registration],
      database: await testDatabase(shipped.database, data),
    };
    expect(shipped.app_service_config_files).toEqual(["/registration/loket-registration.yaml"]);
    const configFile = join(dir, "homeserver.yaml");
    writeFileSync(configFile, YAML.stringify(rewritten));
    spawnSync("mkdir", ["-p", data]);

    const python = await ensureSynapseVenv(SYNAPSE_VENV, () => undefined);
    const logFile = join(dir, "synapse.log");
    synapse = spawnSynapse(python, configFile, dir, logFile);
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitHealthy(baseUrl, synapse, 120_000, logFile);

    // Synapse knows Loket's as_token only from the registration it loaded.
    const whoami = await fetch(`${baseUrl}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${asToken}` } });
    expect(whoami.status).toBe(200);
    expect(await whoami.json()).toMatchObject({ user_id: "@loket:gemeente.example.nl" });
    const stranger = await fetch(`${baseUrl}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${"c3".repeat(32)}` } });
    expect(stranger.status).toBe(401);
  });
});

/** The shipped psycopg2 section pointed at a fresh test database, or SQLite without PostgreSQL. */
async function testDatabase(shipped: { name: string; args: Record<string, unknown> }, data: string): Promise<Record<string, unknown>> {
  expect(shipped.name).toBe("psycopg2");
  const serverUrl = postgresServerUrl();
  if (serverUrl === undefined) return { name: "sqlite3", args: { database: join(data, "homeserver.db") } };
  database = await createTestDatabase(serverUrl, { forSynapse: true });
  return { ...shipped, args: { ...shipped.args, host: database.host, port: database.port, user: database.user, database: database.name } };
}
