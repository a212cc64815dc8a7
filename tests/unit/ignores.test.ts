// Events no capability acts on are done without being routed (Capability.ignores): the core asks
// every capability with a hook, and each answers only for what it can tell at once.
import { describe, expect, it } from "vitest";
import { ignoredByAll, type Capability } from "../../src/core/capability.ts";
import { dmGuardCapability } from "../../src/conversations/dm-guard.ts";
import { greetingCapability } from "../../src/conversations/greeting.ts";
import type { RawEvent } from "../../src/matrix/events.ts";
import { roomsCapability } from "../../src/rooms/capability.ts";

const ev = (type: string, extra: Partial<RawEvent> = {}): RawEvent => ({ event_id: `$${type}`, room_id: "!r:hs", type, sender: "@a:hs", content: {}, ...extra });
const message = ev("m.room.message");
const member = ev("m.room.member", { state_key: "@b:hs", content: { membership: "join" } });
const joinRules = ev("m.room.join_rules", { state_key: "", content: { join_rule: "public" } });
const powerLevels = ev("m.room.power_levels", { state_key: "" });

describe("ignoredByAll", () => {
  const hooked = (ignores?: boolean): Capability => ({ name: "x", onEvent: () => undefined, ...(ignores === undefined ? {} : { ignores: () => ignores }) });

  it("is true only when every capability with a hook ignores the events", () => {
    expect(ignoredByAll([hooked(true), hooked(true)])("!r:hs", [message])).toBe(true);
    expect(ignoredByAll([hooked(true), hooked(false)])("!r:hs", [message])).toBe(false);
    // Saying nothing is acting: routed as usual.
    expect(ignoredByAll([hooked(true), hooked()])("!r:hs", [message])).toBe(false);
    expect(ignoredByAll([hooked(true), { name: "y", endBatch: () => undefined }])("!r:hs", [message])).toBe(false);
  });

  it("does not ask a capability without hooks for room events", () => {
    expect(ignoredByAll([hooked(true), { name: "start-only", start: () => Promise.resolve() }])("!r:hs", [message])).toBe(true);
  });
});

describe("what each capability ignores at once", () => {
  // Their ignores need none of their dependencies.
  const none = {} as never;

  it("rooms: anything but state (a bot loses a room through membership or power levels)", () => {
    const rooms = roomsCapability(none);
    expect(rooms.ignores?.("!r:hs", [message, ev("m.reaction")])).toBe(true);
    expect(rooms.ignores?.("!r:hs", [message, powerLevels])).toBe(false);
    expect(rooms.ignores?.("!r:hs", [member])).toBe(false);
  });

  it("greeting: anything but memberships", () => {
    const greeting = greetingCapability(none);
    expect(greeting.ignores?.("!r:hs", [message, joinRules])).toBe(true);
    expect(greeting.ignores?.("!r:hs", [message, member])).toBe(false);
  });

  it("dm-guard: anything but memberships and join rules", () => {
    const guard = dmGuardCapability(none, none, none, none);
    expect(guard.ignores?.("!r:hs", [message, powerLevels])).toBe(true);
    expect(guard.ignores?.("!r:hs", [joinRules])).toBe(false);
    expect(guard.ignores?.("!r:hs", [member])).toBe(false);
  });
});
