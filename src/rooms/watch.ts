// Noticing that a municipality's bot lost a room: kicked, banned, or its power taken (pure).
import type { RoomEvent } from "../matrix/events.ts";

export type Loss = "kicked" | "banned" | "power";

const levelOf = (content: unknown, user: string): number | undefined => {
  if (typeof content !== "object" || content === null) return undefined;
  const c = content as { users?: Record<string, unknown>; users_default?: unknown };
  const own = c.users?.[user];
  if (typeof own === "number") return own;
  return undefined;
};

/**
 * What the event took from `bot`, if anything. Power counts as lost when the previous power
 * levels listed the bot and the new ones list it lower or not at all; a room creator in room
 * version 12 is never listed and cannot lose power.
 */
export function lossOf(ev: RoomEvent, bot: string): Loss | undefined {
  if (ev.kind === "membership" && ev.target === bot && ev.sender !== bot) {
    if (ev.membership === "ban") return "banned";
    if (ev.membership === "leave") return "kicked";
    return undefined;
  }
  if (ev.type === "m.room.power_levels" && ev.raw.state_key === "" && ev.sender !== bot) {
    const unsigned = ev.raw.unsigned as { prev_content?: unknown } | undefined;
    const before = levelOf(unsigned?.prev_content, bot);
    if (before === undefined) return undefined;
    const after = levelOf(ev.raw.content, bot) ?? 0;
    return after < before ? "power" : undefined;
  }
  return undefined;
}
