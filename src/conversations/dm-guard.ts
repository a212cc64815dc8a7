// A direct chat stays direct: when a room the bot joined as a citizen's DM is made public, or
// someone else joins or is invited, the bot leaves it, by the same rule as at the invite. The
// municipality's own people are not "someone else": staff the bot brings into the conversation
// (!neem), or anyone the bot itself invites. Like the check at the invite, it judges the room as
// it is: an event that would make the bot leave is checked against the room's current state
// first, so that history (what the bot reads back after joining a DM, or a transaction processed
// again) does not make it leave a room that is direct now.
import type { Capability } from "../core/capability.ts";
import type { Database } from "../db/database.ts";
import type { Logger } from "../logging.ts";
import type { BotIntent, Homeserver } from "../matrix/client.ts";
import type { RoomEvent } from "../matrix/events.ts";
import type { RoomId, UserId } from "../matrix/ids.ts";
import type { Municipalities } from "../tenants/municipalities.ts";
import { breaksDirectChat, directRoomsIn, forgetDirectRoom } from "./direct-rooms.ts";

/** What changed that a direct chat depends on: a new member, or the join rule. */
interface Change {
  joinRule?: string;
  newMember?: string;
}

function changeOf(ev: RoomEvent): Change | undefined {
  if (ev.kind === "membership") {
    return ev.membership === "join" || ev.membership === "invite" ? { newMember: ev.target } : undefined;
  }
  const content = ev.raw.content as { join_rule?: unknown } | undefined;
  if (ev.type === "m.room.join_rules" && ev.raw.state_key === "" && typeof content?.join_rule === "string") {
    return { joinRule: content.join_rule };
  }
  return undefined;
}

/** Whether the change still holds in the room's current state (the member still there, the rule still public). */
async function stillBreaks(bot: BotIntent, roomId: RoomId, change: Change): Promise<boolean> {
  if (change.newMember !== undefined) {
    const membership = (await bot.getState<{ membership?: unknown }>(roomId, "m.room.member", change.newMember))?.membership;
    return membership === "join" || membership === "invite";
  }
  return (await bot.getState<{ join_rule?: unknown }>(roomId, "m.room.join_rules", ""))?.join_rule === change.joinRule;
}

export function dmGuardCapability(municipalities: Municipalities, db: Database, hs: Homeserver, log: Logger): Capability {
  const guard = async (ev: RoomEvent, change: Change): Promise<void> => {
    for (const room of await directRoomsIn(db, ev.roomId)) {
      const reason = breaksDirectChat(change, room);
      if (reason === undefined) continue;
      const staff = municipalities.byBotUserId(room.bot)?.staff;
      if (change.newMember !== undefined && (ev.sender === room.bot || staff?.has(change.newMember))) continue;
      const bot = hs.intent(room.bot as UserId);
      if (!(await stillBreaks(bot, ev.roomId, change))) continue;
      await bot.leave(ev.roomId);
      await forgetDirectRoom(db, ev.roomId, room.bot);
      log.info({ roomId: ev.roomId, bot: room.bot, reason }, "left a direct chat that is no longer direct");
    }
  };
  return {
    name: "dm-guard",
    onEvent(ev) {
      // Most events change nothing a direct chat depends on: no promise for those.
      const change = changeOf(ev);
      return change && guard(ev, change);
    },
    ignores: (_roomId, events) => events.every((e) => e.type !== "m.room.member" && e.type !== "m.room.join_rules"),
  };
}
