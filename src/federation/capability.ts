// Federation between governments: at every start the inter-government rooms of config
// federation.rooms are reconciled (see reconcile.ts). The owners' bots are registered first,
// since this may run before the tenants capability has done so.
import type { Capability } from "../core/capability.ts";
import { localpartOf } from "../matrix/ids.ts";
import { reconcileIntergovRooms, type ReconcileDeps } from "./reconcile.ts";

export function federationCapability(deps: ReconcileDeps): Capability {
  return {
    name: "federation",
    async start() {
      const rooms = deps.config.federation.rooms;
      if (rooms.length === 0) return;
      const owners = deps.municipalities.all.filter((m) => rooms.some((r) => r.owner === m.id));
      for (const m of owners) await deps.homeserver.ensureRegistered(localpartOf(m.botUserId));
      const report = await reconcileIntergovRooms(deps);
      deps.log.info({ ...report, rooms: rooms.length }, "inter-government rooms reconciled");
    },
  };
}
