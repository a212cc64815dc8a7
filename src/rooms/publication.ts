// Synapse publishes nothing in its room directory unless room_list_publication_rules allow it
// (empty by default since Synapse 1.126). These rules let the municipality bots publish their
// service desks; the demo and the test harness use them, and the README shows them.
import type { Config } from "../config/schema.ts";
import { botOf } from "./plan.ts";

export function publicationRules(config: Config): Record<string, string>[] {
  return config.municipalities.map((m) => ({ user_id: botOf(config, m), alias: "*", room_id: "*", action: "allow" }));
}
