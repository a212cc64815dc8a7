// The archive capability: every event in a municipality's rooms is archived while it is
// processed (it runs after the other capabilities, so a DM the greeting just joined counts).
// Each event's room context is taken when the event passes; the records of a room's batch (its
// events of one transaction) are written together when the batch ends, and the rooms' batches
// of a municipality are written in one transaction (writer.ts). A database failure is retried
// until it passes or Loket stops (the batch then stays pending and is processed again at the
// next start): an event is never marked processed unarchived.
import type { Config } from "../config/schema.ts";
import { EventFailures, type Capability, type HookResult } from "../core/capability.ts";
import type { Database } from "../db/database.ts";
import type { Logger } from "../logging.ts";
import type { Homeserver } from "../matrix/client.ts";
import type { RoomEvent } from "../matrix/events.ts";
import type { Municipalities } from "../tenants/municipalities.ts";
import { attemptWithRetry, withRetry, type RetryPolicy } from "../util/retry.ts";
import type { CaptureInput } from "./capture.ts";
import { ArchiveWriter, isLasting } from "./writer.ts";
import type { ArchiveContext, RoomContext } from "./context.ts";
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

export function archiveCapability(deps: ArchiveDeps): Capability {
  const { config, municipalities, db, log, context, signal } = deps;
  let workers: Workers | undefined;
  const writer = new ArchiveWriter(db);
  const hookUrls = config.archive.hooks.map((h) => h.url);
  const bots = new Map(municipalities.all.map((m) => [m.id, m.botUserId as string]));
  /**
   * Each room's events of the batch under way, with their context as it was when each was
   * processed; endBatch writes them in one go (the batch is done only once they are written).
   */
  const batches = new Map<string, CaptureInput[]>();

  /** Keeps the event for the batch's write; synchronously when the room's context is known at once. */
  function capture(ev: RoomEvent): HookResult {
    if (municipalities.isOwnBot(ev.sender) || (ev.kind === "membership" && municipalities.isOwnBot(ev.target))) context.forget?.(ev.roomId);
    const ctx = context.roomContext(ev.roomId);
    if (ctx instanceof Promise) return ctx.then((c) => { keep(ev, c); });
    keep(ev, ctx);
    return undefined;
  }

  function keep(ev: RoomEvent, ctx: RoomContext | undefined): void {
    if (!ctx) return;
    const batch = batches.get(ev.raw.room_id) ?? [];
    batch.push({
      event: ev.raw,
      context: ctx,
      receivedAt: new Date(),
      bot: bots.get(ctx.municipality) ?? municipalities.senderUserId,
      hooks: hookUrls,
    });
    batches.set(ev.raw.room_id, batch);
  }

  async function write(inputs: CaptureInput[]): Promise<void> {
    const results = await writer.write(inputs);
    let media = 0;
    const debug = log.isLevelEnabled("debug");
    results.forEach((res, i) => {
      if (!res.archived) return;
      media += res.media;
      const input = inputs[i];
      if (debug) log.debug({ eventId: input?.event.event_id, roomId: input?.event.room_id, seq: res.seq, municipality: input?.context.municipality }, "archived");
    });
    if (media > 0) workers?.wakeMedia();
    if (config.archive.hooks.length > 0 && results.some((r) => r.archived)) workers?.wakeHooks();
  }

  /**
   * How a database failure is retried: until it passes or Loket stops (Interrupted); lasting
   * ones are thrown. `what`: the event or room, for the log.
   */
  const retrying = (what: string): RetryPolicy => ({
    isTransient: (err) => !isLasting(err),
    signal,
    firstDelayMs: 500,
    maxDelayMs: 30_000,
    onRetry: (err, _attempt, delayMs) => { log.warn({ err: String(err), what, delayMs }, "could not archive; retrying"); },
  });

  /** capture, retried; without a promise when it finished at once. */
  const captureRetrying = (ev: RoomEvent): HookResult => attemptWithRetry(() => capture(ev), retrying(ev.eventId));

  /** A batch's write; when the database refuses it for good, each event on its own. */
  async function writeBatch(roomId: string, inputs: CaptureInput[]): Promise<void> {
    try {
      await withRetry(() => write(inputs), retrying(roomId));
    } catch (err) {
      if (!isLasting(err)) throw err;
      // An event the database refuses must not keep the others out: each on its own, in order.
      const failures = new Map<string, unknown>();
      for (const input of inputs) {
        try {
          await withRetry(() => write([input]), retrying(input.event.event_id));
        } catch (e) {
          if (!isLasting(e)) throw e;
          failures.set(input.event.event_id, e);
        }
      }
      if (failures.size > 0) throw new EventFailures(failures);
    }
  }

  return {
    name: "archive",
    start() {
      if (!config.archive.enabled) return Promise.resolve();
      workers = startWorkers(deps);
      return Promise.resolve();
    },
    onEvent(ev) {
      return config.archive.enabled ? captureRetrying(ev) : undefined;
    },
    // The ciphertext of an event whose room key has not arrived (see README, "Late room keys").
    onUndecrypted(ev) {
      return config.archive.enabled ? captureRetrying(ev) : undefined;
    },
    // A room known to be none of a municipality's: nothing to keep, unless a bot acts in it (it
    // may have just become one; capture then reads the room again) or the state changes.
    ignores(roomId, events) {
      if (!config.archive.enabled) return true;
      return events.every((e) => e.state_key === undefined && !municipalities.isOwnBot(e.sender)) && context.knownUnrelated?.(roomId) === true;
    },
    endBatch(roomId, outcome) {
      const inputs = batches.get(roomId);
      batches.delete(roomId);
      if (!inputs || outcome === "interrupted") return undefined;
      return writeBatch(roomId, inputs);
    },
    async stop() {
      await workers?.stop();
    },
  };
}
