// Cross-process lock based on an exclusive mkdir, with stale-lock detection.
// A holder refreshes the lock directory's mtime periodically; a lock whose
// owner process is gone (same host) or whose heartbeat stopped is broken.
import { mkdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const HEARTBEAT_MS = 5_000;
const STALE_AFTER_MS = 60_000;

interface LockOwner {
  pid: number;
  host: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM means the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function isStale(lockDir: string): Promise<boolean> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(lockDir)).mtimeMs;
  } catch {
    return false; // vanished: not stale, just retry mkdir
  }
  try {
    const owner = JSON.parse(await readFile(join(lockDir, "owner.json"), "utf8")) as LockOwner;
    if (owner.host === hostname() && !processAlive(owner.pid)) return true;
  } catch {
    // owner file not written yet (or unreadable): fall back to the heartbeat
  }
  return Date.now() - mtimeMs > STALE_AFTER_MS;
}

/**
 * Run `fn` while holding the lock `lockDir`. Waits (polling) up to `timeoutMs`
 * for another holder to finish.
 */
export async function withDirLock<T>(
  lockDir: string,
  fn: () => Promise<T>,
  opts: { timeoutMs?: number; onWait?: () => void } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20 * 60_000);
  await mkdir(dirname(lockDir), { recursive: true });
  let announced = false;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    if (await isStale(lockDir)) {
      // Rename first so that only one waiter breaks a given stale lock.
      const grave = `${lockDir}.stale-${process.pid}-${Date.now()}`;
      try {
        await rename(lockDir, grave);
        await rm(grave, { recursive: true, force: true });
      } catch {
        // someone else broke it first
      }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lockDir}`);
    if (!announced) {
      announced = true;
      opts.onWait?.();
    }
    await sleep(250 + Math.random() * 250);
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(lockDir, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    const owner: LockOwner = { pid: process.pid, host: hostname() };
    await writeFile(join(lockDir, "owner.json"), JSON.stringify(owner));
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await rm(lockDir, { recursive: true, force: true });
  }
}
