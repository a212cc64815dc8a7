// The state Loket gives an inter-government room, computed from config alone (pure).
import type { FederationRoomConfig } from "../config/schema.ts";
import { powerLevelsContent, STAFF_POWER } from "../rooms/plan.ts";

export { LOKET_ROOM_EVENT } from "../rooms/plan.ts";

/** The `nl.loket.room` content of an inter-government room. */
export function intergovRoomContent(room: FederationRoomConfig): { kind: "intergov"; municipality: string; id: string } {
  return { kind: "intergov", municipality: room.owner, id: room.id };
}

/**
 * Room versions in which the creators stand above every power level and must not be listed in
 * `users` (MSC4289: version 12 and later, and its unstable "hydra" name).
 */
export function creatorsAreUnlimited(roomVersion: string): boolean {
  return roomVersion.startsWith("org.matrix.hydra") || (/^\d+$/.test(roomVersion) && Number(roomVersion) >= 12);
}

/**
 * The whole m.room.power_levels content: the bot 100 (or, as creator of a room version 12 and
 * later, above every level), staff 50, everyone else 0. Staff may invite, kick and rename; the
 * ACL, the power levels and Loket's own state stay with the bot.
 */
export function intergovPowerLevels(bot: string, staff: readonly string[], roomVersion: string): Record<string, unknown> {
  const users: Record<string, number> = {};
  if (!creatorsAreUnlimited(roomVersion)) users[bot] = 100;
  for (const s of [...staff].sort()) if (s !== bot) users[s] = STAFF_POWER;
  // The managed rooms' levels; the tombstone stays within reach of a bot at 100 (room versions
  // before 12), and staff may notify the whole room.
  const managed = powerLevelsContent(users) as { events: Record<string, number> };
  return { ...managed, events: { ...managed.events, "m.room.tombstone": 100 }, notifications: { room: STAFF_POWER } };
}
