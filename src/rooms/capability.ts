// Rooms: at start-up every municipality's bot exists (with its name) and its space, service desk
// and department rooms match the config. While running, a bot that is kicked, banned or loses
// power is logged and counted.
import type { Config } from "../config/schema.ts";
import type { Capability } from "../core/capability.ts";
import type { Metrics } from "../http/metrics.ts";
import type { Logger } from "../logging.ts";
import type { Homeserver } from "../matrix/client.ts";
import type { RoomEvent } from "../matrix/events.ts";
import { ensureBot } from "../tenants/bot.ts";
import type { Municipalities } from "../tenants/municipalities.ts";
import { inPool, type Reconciler, type ReconcileReport } from "./reconcile.ts";
import { lossOf } from "./watch.ts";

/** Municipalities reconciled at the same time at start-up. */
const START_CONCURRENCY = 8;

export interface RoomsDeps {
  config: Config;
  municipalities: Municipalities;
  homeserver: Homeserver;
  reconciler: Reconciler;
  metrics: Metrics;
  log: Logger;
}

export async function reconcileAll(d: RoomsDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { created: 0, updated: 0, unchanged: 0, orphans: [] };
  await inPool(d.municipalities.all, START_CONCURRENCY, async (m) => {
    await ensureBot(d.homeserver, m, d.log);
    for (const outcome of await d.reconciler.reconcileMunicipality(m.config)) report[outcome]++;
  });
  report.orphans = await d.reconciler.orphans();
  for (const orphan of report.orphans) {
    d.log.warn({ room: orphan }, "a managed room is no longer in the config; it is left as it is (remove it by hand if it should go)");
  }
  d.log.info({ created: report.created, updated: report.updated, unchanged: report.unchanged, orphans: report.orphans.length }, "managed rooms reconciled with the config");
  return report;
}

export function roomsCapability(d: RoomsDeps): Capability {
  return {
    name: "rooms",
    async start() {
      await reconcileAll(d);
    },
    onEvent(ev: RoomEvent) {
      const bot = ev.kind === "membership" ? ev.target : undefined;
      const bots = bot !== undefined ? [bot] : d.municipalities.all.map((m) => m.botUserId);
      for (const b of bots) {
        if (d.municipalities.byBotUserId(b) === undefined) continue;
        const loss = lossOf(ev, b);
        if (loss === undefined) continue;
        d.metrics.botRoomLosses.inc({ reason: loss });
        d.log.error({ roomId: ev.roomId, bot: b, by: ev.sender, reason: loss }, "a municipality bot lost a room: it can no longer manage it");
      }
      return undefined;
    },
    // A bot loses a room only through state: a membership or the power levels.
    ignores: (_roomId, events) => events.every((e) => e.state_key === undefined),
  };
}
