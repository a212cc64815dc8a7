// When storing a transaction fails, the homeserver backs off (2 s doubling to 512 s). Loket
// watches the database and, once it answers again, pings the homeserver, which makes it retry
// the queued transactions at once instead of at the end of its back-off.
import type { Database } from "../db/database.ts";
import type { Metrics } from "../http/metrics.ts";
import type { Logger } from "../logging.ts";

export interface RecoveryWatch {
  /** Call after a failed store; starts watching unless already watching. */
  storeFailed(): void;
  stop(): void;
}

export function watchRecovery(db: Database, metrics: Metrics, log: Logger, onRecovered: () => Promise<void>, intervalMs = 1_000): RecoveryWatch {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let watching = false;
  const check = async (): Promise<void> => {
    try {
      await db.ping(intervalMs);
    } catch {
      if (!stopped) timer = setTimeout(() => void check(), intervalMs);
      return;
    }
    watching = false;
    metrics.databaseUp.set(1);
    log.info("database reachable again; asking the homeserver to retry");
    await onRecovered().catch((err: unknown) => { log.warn({ err }, "could not ping the homeserver after recovery"); });
  };
  return {
    storeFailed() {
      metrics.databaseUp.set(0);
      if (watching || stopped) return;
      watching = true;
      log.warn("storing a transaction failed; watching the database");
      timer = setTimeout(() => void check(), intervalMs);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
