// The one index of capabilities, in the order their hooks run.
import type { Config } from "./config/schema.ts";
import type { Capability } from "./core/capability.ts";
import { greetingCapability } from "./conversations/greeting.ts";
import type { Database } from "./db/database.ts";
import { federationCapability } from "./federation/capability.ts";
import type { Logger } from "./logging.ts";
import type { Homeserver } from "./matrix/client.ts";
import { tenantsCapability } from "./tenants/capability.ts";
import type { Municipalities } from "./tenants/municipalities.ts";

export interface CapabilityDeps {
  config: Config;
  database: Database;
  municipalities: Municipalities;
  homeserver: Homeserver;
  log: Logger;
}

export function createCapabilities(deps: CapabilityDeps): Capability[] {
  const { municipalities, homeserver, log } = deps;
  const list = [
    tenantsCapability(municipalities, homeserver, log.child({ capability: "tenants" })),
    greetingCapability(municipalities, homeserver, log.child({ capability: "greeting" })),
    federationCapability({ ...deps, log: log.child({ capability: "federation" }) }),
  ];
  const names = new Set<string>();
  for (const c of list) {
    if (names.has(c.name)) throw new Error(`two capabilities are named '${c.name}'`);
    names.add(c.name);
  }
  return list;
}
