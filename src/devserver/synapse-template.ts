// A cached, fully migrated empty SQLite database per (serverName, Synapse version).
//
// A fresh Synapse database applies its schema quickly (~0.3 s) but then trickles
// through ~56 background updates at about one per second for the first minute,
// which is noise (and CPU) in every short-lived test server. The template is
// made once with Synapse's update_synapse_database script, background updates
// included, and copied into each new data dir.
import { randomBytes } from "node:crypto";
import { access, copyFile, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { withDirLock } from "./lock.ts";
import { launcherEnv, pythonModuleArgs } from "./python-launcher.ts";
import { writeSynapseConfig } from "./synapse-config.ts";
import { installedSynapseVersion, runCommand } from "./venv.ts";

const TEMPLATE_DB = "homeserver.db";

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** A signing key in Synapse's file format: `ed25519 <key id> <unpadded base64 seed>`. */
function signingKeyFileContent(): string {
  const keyId = `a_${randomBytes(3).toString("base64url").slice(0, 4)}`;
  const seed = randomBytes(32).toString("base64").replace(/=+$/, "");
  return `ed25519 ${keyId} ${seed}\n`;
}

async function buildTemplate(python: string, serverName: string, templateDir: string): Promise<void> {
  const tmp = `${templateDir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  try {
    const written = await writeSynapseConfig({
      dataDir: tmp,
      serverName,
      port: 0,
      appserviceConfigFiles: [],
      extraConfig: {},
      postgres: undefined,
    });
    await writeFile(written.signingKeyFile, signingKeyFileContent(), { mode: 0o600 });
    const args = ["--database-config", written.configFile, "--run-background-updates"];
    const res = await runCommand(
      python,
      pythonModuleArgs("synapse._scripts.update_synapse_database", args),
      launcherEnv(),
    );
    if (res.code !== 0) {
      const tail = res.output.trimEnd().split("\n").slice(-40).join("\n");
      throw new Error(`building Synapse database template failed:\n${tail}`);
    }
    await rm(templateDir, { recursive: true, force: true });
    await rename(tmp, templateDir);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Copy the template database for `serverName` to `sqliteFile`, building the
 * template first if needed. Does nothing if `sqliteFile` already exists.
 * Safe for concurrent callers (one builds, the others wait).
 */
export async function seedSqliteFromTemplate(opts: {
  python: string;
  venvDir: string;
  serverName: string;
  sqliteFile: string;
  log: (msg: string) => void;
}): Promise<void> {
  if (await exists(opts.sqliteFile)) return;
  const version = await installedSynapseVersion(opts.python);
  if (version === null) throw new Error(`no Synapse found for ${opts.python}`);
  const key = `${opts.serverName.replace(/[^A-Za-z0-9._-]/g, "_")}-${version}`;
  const templateDir = join(dirname(resolve(opts.venvDir)), "synapse-templates", key);
  const templateDb = join(templateDir, TEMPLATE_DB);
  if (!(await exists(templateDb))) {
    await withDirLock(`${templateDir}.lock`, async () => {
      if (await exists(templateDb)) return;
      opts.log(`building Synapse database template ${templateDir}`);
      const started = Date.now();
      await buildTemplate(opts.python, opts.serverName, templateDir);
      opts.log(`database template built in ${Date.now() - started} ms`);
    });
  }
  // Copy to a temporary name first so that a half-copied file is never used.
  const partial = `${opts.sqliteFile}.partial-${process.pid}`;
  await copyFile(templateDb, partial);
  await rename(partial, opts.sqliteFile);
}
