// The archive's background work: media downloads, checkpoints and hook deliveries, each in a
// loop that also wakes when there is new work. Stopped before the database closes.
import type { ArchiveDeps } from "./capability.ts";
import { writeCheckpoints } from "./checkpoints.ts";
import { adoptPositionalRows, deliverHooks } from "./hooks.ts";
import { startLoop } from "./loop.ts";
import { downloadPending } from "./media.ts";

export interface Workers {
  wakeMedia(): void;
  wakeHooks(): void;
  stop(): Promise<void>;
}

export function startWorkers(deps: ArchiveDeps): Workers {
  const { config, db, homeserver, municipalities, log, signal } = deps;
  const media = startLoop("media", 5_000, async () => {
    await downloadPending(db, {
      homeserverUrl: config.homeserver.url,
      fetch: homeserver.fetch,
      asToken: config.appservice.as_token,
      blobDir: config.archive.blob_dir,
      maxDelaySeconds: config.archive.media_retry_max_seconds,
      log,
      signal,
    });
  }, log);
  const checkpoints = startLoop("checkpoints", config.archive.checkpoint_interval_seconds * 1000, () => writeCheckpoints(db, homeserver, municipalities, log), log);
  let adopted = false;
  const hooks = startLoop("hooks", 2_000, async () => {
    if (!adopted) {
      await adoptPositionalRows(db, config.archive.hooks, log);
      adopted = true;
    }
    await deliverHooks(db, config.archive.hooks, log, signal, config.archive.hook_retry_max_seconds);
  }, log);
  return {
    wakeMedia: () => { media.wake(); },
    wakeHooks: () => { hooks.wake(); },
    async stop() {
      await Promise.all([media.stop(), checkpoints.stop(), hooks.stop()]);
    },
  };
}
