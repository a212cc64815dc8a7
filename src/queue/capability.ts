// The service queue as a capability: at start it assigns what waited while Loket was down (or
// what an earlier failure left unassigned). Messages reach the queue through the conversations
// capability (ConversationListener), timers through the scheduler.
import type { Capability } from "../core/capability.ts";
import type { ServiceDesk } from "./service.ts";

export function queueCapability(desk: ServiceDesk): Capability {
  return {
    name: "queue",
    start: () => desk.sweep(),
  };
}
