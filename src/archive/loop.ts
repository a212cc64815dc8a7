// A background loop: runs `fn` every intervalMs and soon after wake(), never twice at once;
// stop() waits for the run under way. Failures are logged and the loop carries on.
import type { Logger } from "../logging.ts";

export interface Loop {
  wake(): void;
  stop(): Promise<void>;
}

export function startLoop(name: string, intervalMs: number, fn: () => Promise<void>, log: Logger): Loop {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const run = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = fn()
      .catch((err: unknown) => { log.warn({ err: String(err), loop: name }, "archive background work failed; will try again"); })
      .finally(() => {
        running = undefined;
        if (again && !stopped) {
          again = false;
          setImmediate(run);
        }
      });
  };
  const timer = setInterval(run, intervalMs);
  setImmediate(run);
  return {
    wake: run,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
