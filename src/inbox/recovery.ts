// When Loket refuses a transaction (the database failed, or too much work waits in memory), the
// homeserver backs off (2 s doubling to 512 s). Loket watches until it can take transactions
// again and then pings the homeserver, which makes it retry at once instead of at the end of
// its back-off.
import type { Database } from "../db/database.ts";
import type { Metrics } from "../http/metrics.ts";
import type { Logger } from "../logging.ts";

export interface RecoveryWatch {
  /** Call after refusing a transaction; starts watching unless already watching. */
  refused(reason: "database" | "busy"): void;
  /** Stops watching; resolves when a check under way has finished. */
  stop(): Promise<void>;
}

export function watchRecovery(db: Database, busy: () => boolean, metrics: Metrics, log: Logger, onRecovered: () => Promise<void>, intervalMs = 1_000): RecoveryWatch {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let watching = false;
  let running: Promise<void> = Promise.resolve();
  const check = async (): Promise<void> => {
    try {
      await db.ping(intervalMs);
      metrics.databaseUp.set(1);
      if (busy()) throw new Error("busy");
    } catch {
      if (!stopped) timer = setTimeout(() => { running = check(); }, intervalMs);
      return;
    }
    watching = false;
    if (stopped) return;
    log.info("Loket can take transactions again; asking the homeserver to retry now");
    await onRecovered().catch((err: unknown) => { log.warn({ err }, "could not ping the homeserver after recovery"); });
  };
  return {
    refused(reason) {
      if (reason === "database") metrics.databaseUp.set(0);
      if (watching || stopped) return;
      watching = true;
      log.warn({ reason }, "refused a transaction; the homeserver will retry");
      timer = setTimeout(() => { running = check(); }, intervalMs);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
