// Provision a Python virtualenv with a pinned Synapse, safely for concurrent callers.
import { spawn } from "node:child_process";
import { access, mkdir, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { withDirLock } from "./lock.ts";
import { launcherEnv, pythonModuleArgs } from "./python-launcher.ts";

/** The Synapse release series we develop and test against (pip: `==<series>.*`). */
export const SYNAPSE_VERSION_SERIES = "1.163";

/** pip requirements installed into the venv. */
export const SYNAPSE_PIP_REQUIREMENTS: readonly string[] = [
  `matrix-synapse==${SYNAPSE_VERSION_SERIES}.*`,
  "psycopg2-binary",
];

const PYTHON_CANDIDATES = ["python3.13", "python3.12", "python3.11", "python3.10", "python3"];
const MIN_PYTHON: readonly [number, number] = [3, 10];

interface RunResult {
  code: number | null;
  stdout: string;
  output: string;
}

/** Run a command, collecting stdout and the combined output. Never rejects on exit code. */
export function runCommand(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    let stdout = "";
    let output = "";
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", (err) => {
      resolvePromise({ code: null, stdout, output: output + String(err) });
    });
    child.on("close", (code) => {
      resolvePromise({ code, stdout, output });
    });
  });
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

// Cheaper than `import synapse` (~0.1 s instead of ~0.7 s): checks that the
// modules are findable and reads the installed distribution's version.
const VERSION_PROBE = [
  "import importlib.metadata as m, importlib.util as u",
  "assert u.find_spec('synapse') and u.find_spec('psycopg2')",
  "print(m.version('matrix-synapse'))",
].join("\n");

/** The Synapse version installed for `python` (with psycopg2 present), or null. */
export async function installedSynapseVersion(python: string): Promise<string | null> {
  const res = await runCommand(python, ["-c", VERSION_PROBE]);
  return res.code === 0 ? res.stdout.trim() : null;
}

function versionMatches(version: string | null): boolean {
  return version !== null && version.startsWith(`${SYNAPSE_VERSION_SERIES}.`);
}

async function pythonVersionOk(python: string): Promise<boolean> {
  const res = await runCommand(python, ["-c", "import sys; print(*sys.version_info[:2])"]);
  if (res.code !== 0) return false;
  const [major, minor] = res.stdout.trim().split(" ").map(Number);
  if (major === undefined || minor === undefined) return false;
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}

async function findBasePython(): Promise<string> {
  for (const candidate of PYTHON_CANDIDATES) {
    if (await pythonVersionOk(candidate)) return candidate;
  }
  throw new Error(
    `no Python >= ${MIN_PYTHON.join(".")} found on PATH (tried ${PYTHON_CANDIDATES.join(", ")})`,
  );
}

async function install(venvDir: string, python: string, log: (msg: string) => void): Promise<void> {
  const existing = await access(python).then(
    () => pythonVersionOk(python),
    () => false,
  );
  if (!existing) {
    const base = await findBasePython();
    log(`creating Python venv in ${venvDir} with ${base}`);
    await rm(venvDir, { recursive: true, force: true });
    const res = await runCommand(base, ["-m", "venv", venvDir]);
    if (res.code !== 0) throw new Error(`${base} -m venv failed:\n${tail(res.output)}`);
  }
  log(`pip install ${SYNAPSE_PIP_REQUIREMENTS.join(" ")} (this takes a minute or two)`);
  const pipArgs = ["install", "--disable-pip-version-check", "--quiet", ...SYNAPSE_PIP_REQUIREMENTS];
  // Via the launcher, so that pip dies with us instead of racing the next installer.
  const res = await runCommand(python, pythonModuleArgs("pip", pipArgs), launcherEnv());
  if (res.code !== 0) throw new Error(`pip install failed:\n${tail(res.output)}`);
}

const inProcess = new Map<string, Promise<string>>();

async function ensure(venvDir: string, log: (msg: string) => void): Promise<string> {
  const python = join(venvDir, "bin", "python");
  if (versionMatches(await installedSynapseVersion(python))) return python;
  await mkdir(dirname(venvDir), { recursive: true });
  return withDirLock(
    `${venvDir}.lock`,
    async () => {
      // Another process may have finished the install while we waited.
      if (versionMatches(await installedSynapseVersion(python))) return python;
      await install(venvDir, python, log);
      const version = await installedSynapseVersion(python);
      if (!versionMatches(version)) {
        throw new Error(`venv ${venvDir} has Synapse ${String(version)} after install`);
      }
      log(`Synapse ${String(version)} installed in ${venvDir}`);
      return python;
    },
    { onWait: () => { log(`waiting for another process installing Synapse into ${venvDir}`); } },
  );
}

/**
 * Make sure `venvDir` is a virtualenv with Synapse SYNAPSE_VERSION_SERIES.x and
 * psycopg2 installed; returns the path of its python. Idempotent and safe
 * to call from several processes at once.
 */
export function ensureSynapseVenv(
  venvDir: string,
  log: (msg: string) => void = () => undefined,
): Promise<string> {
  const key = resolve(venvDir);
  let pending = inProcess.get(key);
  if (pending === undefined) {
    pending = ensure(key, log);
    inProcess.set(key, pending);
    // A failed attempt may be retried later.
    pending.catch(() => inProcess.delete(key));
  }
  return pending;
}
