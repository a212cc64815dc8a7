import { describe, expect, it } from "vitest";
import { missedBeforeJoin } from "../../src/conversations/missed.ts";
import type { RawEvent } from "../../src/matrix/events.ts";

const bot = "@gemeente_x:hs";
const citizen = "@c:hs";
const ours = (u: string): boolean => u === bot || u.startsWith("@loket_");
let n = 0;
const ev = (type: string, sender: string, extra: Record<string, unknown> = {}): RawEvent => ({ event_id: `$${++n}`, room_id: "!dm:hs", type, sender, ...extra });
const member = (sender: string, target: string, membership: string, before?: string): RawEvent =>
  ev("m.room.member", sender, { state_key: target, content: { membership }, ...(before ? { unsigned: { prev_content: { membership: before } } } : {}) });

describe("what a bot was never sent of a DM", () => {
  it("is everything before the bot's latest join, oldest first, less what the homeserver sends anyway", () => {
    const create = ev("m.room.create", "@c:hs", { state_key: "" });
    const joined = member("@c:hs", "@c:hs", "join");
    const rules = ev("m.room.join_rules", "@c:hs", { state_key: "", content: { join_rule: "invite" } });
    const invite = member("@c:hs", bot, "invite");
    const question = ev("m.room.message", "@c:hs", { content: { body: "Mijn vraag" } });
    const virtual = ev("m.room.message", "@loket_web_1:hs");
    // State about one of Loket's users that is not a membership: the homeserver does not send it.
    const power = ev("m.room.power_levels", "@c:hs", { state_key: "", content: { users: { [bot]: 100 } } });
    const botState = ev("nl.example.state", "@c:hs", { state_key: bot });
    const botJoin = member(bot, bot, "join", "invite");
    const after = ev("m.room.message", "@c:hs");
    const oldestFirst = [create, joined, rules, invite, question, virtual, power, botState, botJoin, after];
    expect(missedBeforeJoin([...oldestFirst].reverse(), bot, citizen, ours)).toEqual([create, joined, rules, question, power, botState]);
  });

  it("goes back to the bot's last leave only (it was sent what came while it was in); undefined without its join", () => {
    const old = ev("m.room.message", "@c:hs");
    const firstJoin = member(bot, bot, "join", "invite");
    const whileIn = ev("m.room.message", "@c:hs");
    const left = member(bot, bot, "leave", "join");
    const between = ev("m.room.message", "@c:hs");
    const someoneElse = ev("m.room.message", "@x:hs");
    const named = ev("m.room.name", "@x:hs", { state_key: "", content: { name: "Vraag" } });
    const reinvite = member("@c:hs", bot, "invite", "leave");
    const rejoin = member(bot, bot, "join", "invite");
    // Only the citizen's messages: other people's were not said to the municipality; state is.
    expect(missedBeforeJoin([rejoin, reinvite, named, someoneElse, between, left, whileIn, firstJoin, old], bot, citizen, ours)).toEqual([between, named]);
    expect(missedBeforeJoin([between, old], bot, citizen, ours)).toBeUndefined();
    expect(missedBeforeJoin([member("@c:hs", "@c:hs", "join")], bot, citizen, ours)).toBeUndefined();
  });

  it("a display name change of the bot (a join after a join) is not its join", () => {
    const question = ev("m.room.message", "@c:hs");
    const botJoin = member(bot, bot, "join", "invite");
    const live = ev("m.room.message", "@c:hs");
    const renamed = member(bot, bot, "join", "join");
    expect(missedBeforeJoin([renamed, live, botJoin, question], bot, citizen, ours)).toEqual([question]);
  });
});
