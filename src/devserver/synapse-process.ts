// Spawning, health-waiting and stopping of a Synapse child process.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { launcherEnv, pythonModuleArgs } from "./python-launcher.ts";

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Safety net for a normal process exit without stop(): kill synchronously.
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

export interface SynapseChild {
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<string>;
  hasExited(): boolean;
}

/** Start `python -m synapse.app.homeserver -c configFile` in `cwd`, stdout/stderr appended to `logFile`. */
export function spawnSynapse(
  python: string,
  configFile: string,
  cwd: string,
  logFile: string,
  env: Record<string, string> = {},
): SynapseChild {
  installExitHook();
  const logFd = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(python, pythonModuleArgs("synapse.app.homeserver", ["-c", configFile]), {
      cwd,
      stdio: ["ignore", logFd, logFd],
      env: launcherEnv({ PYTHONUNBUFFERED: "1", ...env }),
    });
  } finally {
    closeSync(logFd);
  }
  live.add(child);
  let done = false;
  const exited = new Promise<string>((resolve) => {
    const finish = (what: string): void => {
      done = true;
      live.delete(child);
      resolve(what);
    };
    child.once("exit", (code, signal) => {
      finish(signal ?? `code ${String(code)}`);
    });
    child.once("error", (err) => {
      finish(`spawn error: ${err.message}`);
    });
  });
  return { child, exited, hasExited: () => done };
}

export async function logTail(logFile: string, lines = 40): Promise<string> {
  try {
    const text = await readFile(logFile, "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Poll GET /health until 200; reject if the process exits or `timeoutMs` passes. */
export async function waitHealthy(
  baseUrl: string,
  proc: SynapseChild,
  timeoutMs: number,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.hasExited()) {
      const how = await proc.exited;
      throw new Error(`Synapse exited during startup (${how}); last log lines:\n${await logTail(logFile)}`);
    }
    try {
      const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`Synapse not healthy after ${timeoutMs} ms; last log lines:\n${await logTail(logFile)}`);
    }
    await sleep(100);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopSynapse(proc: SynapseChild, graceMs = 10_000): Promise<void> {
  if (proc.hasExited()) return;
  proc.child.kill("SIGTERM");
  const timer = sleep(graceMs, "timeout" as const, { ref: false });
  if ((await Promise.race([proc.exited, timer])) === "timeout") {
    proc.child.kill("SIGKILL");
    await proc.exited;
  }
}
