// What a bot was never sent. A homeserver pushes an appservice the events of rooms where one of
// its users is joined, and the events that name one of its users; a new DM is neither until the
// bot has joined it. What the citizen did there first (created it, set its state, and often
// wrote the first question: Element sends it as soon as the room exists) never reaches Loket
// unless the bot reads it back after joining. The archive must hold it, and the queue must see
// the question.
import type { RawEvent } from "../matrix/events.ts";

/**
 * The events before the bot's latest join, oldest first, from a room's history newest first:
 * back to the bot's last leave (while it was in the room it was sent everything), leaving out
 * what the homeserver sends Loket anyway (events sent by, or about, one of Loket's own users:
 * the bot's invite, for one). Undefined when the history does not reach back to the join.
 */
export function missedBeforeJoin(newestFirst: readonly RawEvent[], bot: string, isLoketUser: (userId: string) => boolean): RawEvent[] | undefined {
  const botMembership = (ev: RawEvent): unknown => (ev.type === "m.room.member" && ev.state_key === bot ? membershipOf(ev) : undefined);
  const join = newestFirst.findIndex((ev) => botMembership(ev) === "join");
  if (join < 0) return undefined;
  const missed: RawEvent[] = [];
  for (const ev of newestFirst.slice(join + 1)) {
    const was = botMembership(ev);
    if (was === "leave" || was === "ban") break;
    if (!isLoketUser(ev.sender) && !(typeof ev.state_key === "string" && isLoketUser(ev.state_key))) missed.push(ev);
  }
  return missed.reverse();
}

function membershipOf(ev: RawEvent): unknown {
  const content = ev.content;
  return typeof content === "object" && content !== null ? (content as Record<string, unknown>).membership : undefined;
}
