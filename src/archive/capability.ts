// The archive capability: every event in a municipality's rooms is archived while it is
// processed (it runs after the other capabilities, so a DM the greeting just joined counts).
// A database failure is retried until it passes or Loket stops (the event then stays pending
// and is processed again at the next start): an event is never marked processed unarchived.
import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "../config/schema.ts";
import type { Capability } from "../core/capability.ts";
import type { Database } from "../db/database.ts";
import type { Logger } from "../logging.ts";
import type { Homeserver } from "../matrix/client.ts";
import type { RoomEvent } from "../matrix/events.ts";
import type { Municipalities } from "../tenants/municipalities.ts";
import { Interrupted } from "../util/retry.ts";
import { ArchiveWriter } from "./writer.ts";
import type { ArchiveContext } from "./context.ts";
import { startWorkers, type Workers } from "./workers.ts";

export interface ArchiveDeps {
  config: Config;
  municipalities: Municipalities;
  db: Database;
  homeserver: Homeserver;
  log: Logger;
  context: ArchiveContext;
  signal: AbortSignal;
}

/** SQLSTATE classes of errors that no retry can fix (bad data, constraint violations). */
const LASTING = /^(22|23|42)/;

export function archiveCapability(deps: ArchiveDeps): Capability {
  const { config, municipalities, db, log, context, signal } = deps;
  let workers: Workers | undefined;
  const stopping = (): boolean => signal.aborted;
  const writer = new ArchiveWriter(db);
  const hookUrls = config.archive.hooks.map((h) => h.url);
  const bots = new Map(municipalities.all.map((m) => [m.id, m.botUserId as string]));

  async function archive(ev: RoomEvent): Promise<void> {
    if (municipalities.isOwnBot(ev.sender) || (ev.kind === "membership" && municipalities.isOwnBot(ev.target))) context.forget?.(ev.roomId);
    const ctx = await context.roomContext(ev.roomId);
    if (!ctx) return;
    const res = await writer.write({
      event: ev.raw,
      context: ctx,
      receivedAt: new Date(),
      bot: bots.get(ctx.municipality) ?? municipalities.senderUserId,
      hooks: hookUrls,
    });
    if (res.archived) {
      log.debug({ eventId: ev.eventId, roomId: ev.roomId, seq: res.seq, municipality: ctx.municipality }, "archived");
      if (res.media > 0) workers?.wakeMedia();
      if (config.archive.hooks.length > 0) workers?.wakeHooks();
    }
  }

  async function archiveRetrying(ev: RoomEvent): Promise<void> {
    if (!config.archive.enabled) return;
    for (let delay = 500; ; delay = Math.min(delay * 2, 30_000)) {
      if (stopping()) throw new Interrupted();
      try {
        await archive(ev);
        return;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === "string" && LASTING.test(code)) throw err;
        if (stopping()) throw new Interrupted();
        log.warn({ err: String(err), eventId: ev.eventId, delayMs: delay }, "could not archive an event; retrying");
        try {
          await sleep(delay, undefined, { signal });
        } catch {
          throw new Interrupted();
        }
      }
    }
  }

  return {
    name: "archive",
    start() {
      if (!config.archive.enabled) return Promise.resolve();
      workers = startWorkers(deps);
      return Promise.resolve();
    },
    onEvent: archiveRetrying,
    // The ciphertext of an event whose room key has not arrived (see README, "Late room keys").
    onUndecrypted: archiveRetrying,
    async stop() {
      await workers?.stop();
    },
  };
}
