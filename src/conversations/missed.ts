// What a bot was never sent. A homeserver pushes an appservice the events of rooms where one of
// its users is joined, and the events that name one of its users; a new DM is neither until the
// bot has joined it. What the citizen did there first (created it, set its state, and often
// wrote the first question: Element sends it as soon as the room exists) never reaches Loket
// unless the bot reads it back after joining. The archive must hold it, and the queue must see
// the question.
import type { RawEvent } from "../matrix/events.ts";

/**
 * The events before the bot's latest join, oldest first, from a room's history newest first:
 * back to the bot's last leave (while it was in the room it was sent everything). Kept: the
 * citizen's events and state events (the room's creation and settings); left out: what the
 * homeserver sends Loket anyway (events sent by one of Loket's own users, and membership events
 * about one), and other people's messages, which were not said to the municipality. Undefined
 * when the history does not reach back to the join.
 */
export function missedBeforeJoin(newestFirst: readonly RawEvent[], bot: string, citizen: string, isLoketUser: (userId: string) => boolean): RawEvent[] | undefined {
  const join = newestFirst.findIndex((ev) => isBotMembership(ev, bot) && membershipOf(ev.content) === "join" && membershipOf(prevContentOf(ev)) !== "join");
  if (join < 0) return undefined;
  const missed: RawEvent[] = [];
  for (const ev of newestFirst.slice(join + 1)) {
    const was = isBotMembership(ev, bot) ? membershipOf(ev.content) : undefined;
    if (was === "leave" || was === "ban") break;
    if (isLoketUser(ev.sender)) continue;
    if (ev.type === "m.room.member" && typeof ev.state_key === "string" && isLoketUser(ev.state_key)) continue;
    if (ev.sender === citizen || typeof ev.state_key === "string") missed.push(ev);
  }
  return missed.reverse();
}

const isBotMembership = (ev: RawEvent, bot: string): boolean => ev.type === "m.room.member" && ev.state_key === bot;

/** A membership change of the bot (a display name change is a "join" after a "join": not one). */
function prevContentOf(ev: RawEvent): unknown {
  const unsigned = ev.unsigned;
  return typeof unsigned === "object" && unsigned !== null ? (unsigned as Record<string, unknown>).prev_content : undefined;
}

function membershipOf(content: unknown): unknown {
  return typeof content === "object" && content !== null ? (content as Record<string, unknown>).membership : undefined;
}
