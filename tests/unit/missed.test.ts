import { describe, expect, it } from "vitest";
import { missedBeforeJoin } from "../../src/conversations/missed.ts";
import type { RawEvent } from "../../src/matrix/events.ts";

const bot = "@gemeente_x:hs";
const ours = (u: string): boolean => u === bot || u.startsWith("@loket_");
let n = 0;
const ev = (type: string, sender: string, extra: Record<string, unknown> = {}): RawEvent => ({ event_id: `$${++n}`, room_id: "!dm:hs", type, sender, ...extra });
const member = (sender: string, target: string, membership: string): RawEvent => ev("m.room.member", sender, { state_key: target, content: { membership } });

describe("what a bot was never sent of a DM", () => {
  it("is everything before the bot's latest join, oldest first, less what the homeserver sends anyway", () => {
    const create = ev("m.room.create", "@c:hs", { state_key: "" });
    const joined = member("@c:hs", "@c:hs", "join");
    const rules = ev("m.room.join_rules", "@c:hs", { state_key: "", content: { join_rule: "invite" } });
    const invite = member("@c:hs", bot, "invite");
    const question = ev("m.room.message", "@c:hs", { content: { body: "Mijn vraag" } });
    const virtual = ev("m.room.message", "@loket_web_1:hs");
    const botJoin = member(bot, bot, "join");
    const after = ev("m.room.message", "@c:hs");
    const oldestFirst = [create, joined, rules, invite, question, virtual, botJoin, after];
    expect(missedBeforeJoin([...oldestFirst].reverse(), bot, ours)).toEqual([create, joined, rules, question]);
  });

  it("goes back to the bot's last leave only (it was sent what came while it was in); undefined without its join", () => {
    const old = ev("m.room.message", "@c:hs");
    const firstJoin = member(bot, bot, "join");
    const whileIn = ev("m.room.message", "@c:hs");
    const left = member(bot, bot, "leave");
    const between = ev("m.room.message", "@c:hs");
    const reinvite = member("@c:hs", bot, "invite");
    const rejoin = member(bot, bot, "join");
    expect(missedBeforeJoin([rejoin, reinvite, between, left, whileIn, firstJoin, old], bot, ours)).toEqual([between]);
    expect(missedBeforeJoin([between, old], bot, ours)).toBeUndefined();
    expect(missedBeforeJoin([member("@c:hs", "@c:hs", "join")], bot, ours)).toBeUndefined();
  });
});
