// Tenants: at start-up every municipality's bot user exists and carries the municipality's name.
import type { Capability } from "../core/capability.ts";
import type { Logger } from "../logging.ts";
import { localpartOf } from "../matrix/ids.ts";
import type { Homeserver } from "../matrix/client.ts";
import type { Municipalities } from "./municipalities.ts";

export function tenantsCapability(municipalities: Municipalities, hs: Homeserver, log: Logger): Capability {
  return {
    name: "tenants",
    async start() {
      for (const m of municipalities.all) {
        const outcome = await hs.ensureRegistered(localpartOf(m.botUserId));
        await hs.intent(m.botUserId).setDisplayName(m.name);
        log.info({ municipality: m.id, bot: m.botUserId, outcome }, "municipality bot ready");
      }
    },
  };
}
