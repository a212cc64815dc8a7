// The one index of capabilities, in the order their hooks run.
import { archiveCapability } from "./archive/capability.ts";
import { cachedContext, directRoomContext } from "./archive/context.ts";
import type { Config } from "./config/schema.ts";
import type { Capability } from "./core/capability.ts";
import { dmGuardCapability } from "./conversations/dm-guard.ts";
import { greetingCapability } from "./conversations/greeting.ts";
import type { Database } from "./db/database.ts";
import type { Logger } from "./logging.ts";
import type { Homeserver } from "./matrix/client.ts";
import { tenantsCapability } from "./tenants/capability.ts";
import type { Municipalities } from "./tenants/municipalities.ts";

export interface CapabilityDeps {
  municipalities: Municipalities;
  db: Database;
  homeserver: Homeserver;
  log: Logger;
  config: Config;
  /** Aborted when Loket stops. */
  signal: AbortSignal;
}

export function createCapabilities(deps: CapabilityDeps): Capability[] {
  const { municipalities, db, homeserver, log } = deps;
  const list = [
    tenantsCapability(municipalities, homeserver, log.child({ capability: "tenants" })),
    greetingCapability(municipalities, db, homeserver, log.child({ capability: "greeting" })),
    dmGuardCapability(db, homeserver, log.child({ capability: "dm-guard" })),
    archiveCapability({ ...deps, log: log.child({ capability: "archive" }), context: cachedContext(directRoomContext(db, municipalities)) }),
  ];
  const names = new Set<string>();
  for (const c of list) {
    if (names.has(c.name)) throw new Error(`two capabilities are named '${c.name}'`);
    names.add(c.name);
  }
  return list;
}
