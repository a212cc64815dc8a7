// The one index of capabilities, in the order their hooks run.
import { archiveCapability } from "./archive/capability.ts";
import { archiveCommands } from "./archive/commands.ts";
import { directoryContext } from "./conversations/archive-context.ts";
import type { Config } from "./config/schema.ts";
import type { Capability } from "./core/capability.ts";
import { conversationsCapability } from "./conversations/capability.ts";
import { RoomDirectory } from "./conversations/directory.ts";
import { dmGuardCapability } from "./conversations/dm-guard.ts";
import { greetingCapability, type StoreMissed } from "./conversations/greeting.ts";
import { Conversations } from "./conversations/service.ts";
import type { Database } from "./db/database.ts";
import { federationCapability } from "./federation/capability.ts";
import type { Metrics } from "./http/metrics.ts";
import type { Logger } from "./logging.ts";
import type { Homeserver } from "./matrix/client.ts";
import { queueCapability } from "./queue/capability.ts";
import { queueCommands } from "./queue/commands.ts";
import { ServiceDesk } from "./queue/service.ts";
import { roomsCapability } from "./rooms/capability.ts";
import type { Reconciler } from "./rooms/reconcile.ts";
import type { Clock, Scheduler } from "./scheduler/scheduler.ts";
import type { Municipalities } from "./tenants/municipalities.ts";
import type { RetryPolicy } from "./util/retry.ts";

export interface CapabilityDeps {
  config: Config;
  database: Database;
  municipalities: Municipalities;
  homeserver: Homeserver;
  reconciler: Reconciler;
  metrics: Metrics;
  log: Logger;
  /** Aborted when Loket stops. */
  signal: AbortSignal;
  clock: Clock;
  /** Runs timers (rows) when due; capabilities register their kinds at creation. */
  scheduler: Scheduler;
  /** How work deferred to the end of a batch retries a failure that may pass (as route() does). */
  retry: (capability: string) => RetryPolicy;
  /** Stores events the homeserver never sent Loket, as a transaction of their own (the inbox). */
  storeMissed: StoreMissed;
}

export function createCapabilities(deps: CapabilityDeps): Capability[] {
  const { config, database, municipalities, homeserver, metrics, log } = deps;
  const conversations = new Conversations({ config, db: database, hs: homeserver, metrics, log: log.child({ capability: "conversations" }) });
  const desk = new ServiceDesk({
    config, db: database, hs: homeserver, metrics, log: log.child({ capability: "queue" }),
    clock: deps.clock, scheduler: deps.scheduler, conversations, municipalities,
  });
  // What each room is (conversation, managed room, direct chat): asked for every event by the
  // conversations and archive capabilities, read once per batch of rooms.
  const directory = new RoomDirectory(database);
  const list = [
    roomsCapability({ ...deps, log: log.child({ capability: "rooms" }) }),
    greetingCapability({
      municipalities, db: database, hs: homeserver, log: log.child({ capability: "greeting" }),
      onDm: (...args) => conversations.startFromDm(...args), storeMissed: deps.storeMissed,
    }),
    dmGuardCapability(municipalities, database, homeserver, log.child({ capability: "dm-guard" })),
    conversationsCapability({
      ...deps, conversations, directory, queue: desk, log: log.child({ capability: "conversations" }),
      extraCommands: [...queueCommands(desk), ...archiveCommands({ config, db: database })],
    }),
    queueCapability(desk),
    archiveCapability({ ...deps, db: database, log: log.child({ capability: "archive" }), context: directoryContext(directory, municipalities) }),
    federationCapability({ ...deps, log: log.child({ capability: "federation" }) }),
  ];
  const names = new Set<string>();
  for (const c of list) {
    if (names.has(c.name)) throw new Error(`two capabilities are named '${c.name}'`);
    names.add(c.name);
  }
  return list;
}
