// The one way to start background work: failures are logged and counted, never dropped.
import type { Logger } from "../logging.ts";
import type { Metrics } from "../http/metrics.ts";

export interface Tasks {
  run(name: string, fn: () => Promise<unknown>): void;
  /** Resolves when every task started so far has settled. */
  idle(): Promise<void>;
}

export function createTasks(log: Logger, metrics: Metrics): Tasks {
  const running = new Set<Promise<unknown>>();
  return {
    run(name, fn) {
      const p = fn().catch((err: unknown) => {
        metrics.taskFailures.inc({ task: name });
        log.error({ err, task: name }, "background task failed");
      });
      running.add(p);
      void p.finally(() => running.delete(p));
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
