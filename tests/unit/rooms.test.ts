import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/load.ts";
import { roomListing } from "../../src/cli/rooms.ts";
import { decodeEvent } from "../../src/matrix/events.ts";
import { appliedFrom, diffRoom, hasChanges } from "../../src/rooms/diff.ts";
import { departmentStaff, desiredRooms, referencePrefix } from "../../src/rooms/plan.ts";
import { lossOf } from "../../src/rooms/watch.ts";
import type { RoomId } from "../../src/matrix/ids.ts";

const base = {
  homeserver: { domain: "example.nl" },
  appservice: { as_token: "a".repeat(32), hs_token: "h".repeat(32) },
};
const utrecht = {
  id: "utrecht", name: "Gemeente Utrecht", bot_localpart: "gemeente_utrecht",
  staff: ["@chef:example.nl", { user: "@jan:other.nl", departments: ["afval"] }],
  departments: [
    { id: "burgerzaken", name: "Burgerzaken", staff: ["@anna:example.nl"] },
    { id: "afval", name: "Afval" },
  ],
};

function problems(municipalities: unknown[]): Record<string, string> {
  try {
    parseConfig({ ...base, municipalities });
  } catch (err) {
    if (err instanceof ConfigError) return Object.fromEntries(err.problems.map((p) => [p.path, p.message]));
    throw err;
  }
  return {};
}

describe("the room plan", () => {
  const { config } = parseConfig({ ...base, municipalities: [utrecht] });
  const m = config.municipalities[0];
  if (!m) throw new Error("no municipality");

  it("gives a space, a published service desk and a room per department, with aliases in the namespace", () => {
    const rooms = desiredRooms(config, m);
    expect(rooms.map((r) => [r.key, r.alias, r.public, r.published])).toEqual([
      ["space", "#loket_utrecht:example.nl", true, false],
      ["service_desk", "#loket_utrecht_balie:example.nl", true, true],
      ["department:burgerzaken", "#loket_utrecht_afdeling_burgerzaken:example.nl", false, false],
      ["department:afval", "#loket_utrecht_afdeling_afval:example.nl", false, false],
    ]);
    expect(rooms[2]?.state).toEqual({ kind: "department", municipality: "utrecht", department: "burgerzaken" });
    expect(rooms[1]?.topic).toMatch(/Archiefwet/);
  });

  it("puts staff in the departments they serve, with power 50", () => {
    expect(departmentStaff(m, "burgerzaken")).toEqual(["@anna:example.nl", "@chef:example.nl"]);
    expect(departmentStaff(m, "afval")).toEqual(["@chef:example.nl", "@jan:other.nl"]);
    expect(desiredRooms(config, m)[3]?.powerUsers).toEqual({ "@chef:example.nl": 50, "@jan:other.nl": 50 });
    expect(referencePrefix(m)).toBe("UTRECHT");
  });

  it("finds nothing to change in a room that matches, and exactly what differs otherwise", () => {
    const [, desk, dep] = desiredRooms(config, m);
    if (!desk || !dep) throw new Error("missing rooms");
    expect(hasChanges(diffRoom(appliedFrom(desk, "!space"), desk))).toBe(false);
    const applied = { ...appliedFrom(dep, "!space"), members: ["@anna:example.nl", "@weg:example.nl"], topic: "oud" };
    const changes = diffRoom(applied, dep);
    expect(changes).toMatchObject({ topic: dep.topic, invite: ["@chef:example.nl"], remove: ["@weg:example.nl"] });
    expect(changes.name).toBeUndefined();
  });
});

describe("room config checks", () => {
  it("name unknown departments, duplicate aliases and duplicate reference prefixes by key path", () => {
    const found = problems([
      { ...utrecht, staff: [{ user: "@jan:other.nl", departments: ["parkeren"] }], default_department: "vergunningen" },
      { id: "utrecht-2", name: "U2", bot_localpart: "u2", alias: "utrecht", reference_prefix: "UTRECHT" },
    ]);
    expect(found["municipalities.0.staff.0.departments.0"]).toMatch(/unknown department 'parkeren'/);
    expect(found["municipalities.0.default_department"]).toMatch(/unknown department 'vergunningen'/);
    expect(found["municipalities.1.alias"]).toMatch(/#loket_utrecht is also used by municipality 'utrecht'/);
    expect(found["municipalities.1.reference_prefix"]).toMatch(/'UTRECHT' is also used/);
  });

  it("accept a valid config", () => {
    expect(problems([utrecht, { id: "zeist", name: "Zeist", bot_localpart: "gemeente_zeist" }])).toEqual({});
  });
});

describe("a bot losing a room", () => {
  const bot = "@gemeente_utrecht:example.nl";
  const ev = (raw: Record<string, unknown>) => decodeEvent({ event_id: "$e", room_id: "!r", sender: "@boss:example.nl", ...raw } as never);
  it("is noticed when kicked, banned or demoted, not when it leaves or is not listed", () => {
    expect(lossOf(ev({ type: "m.room.member", state_key: bot, content: { membership: "leave" } }), bot)).toBe("kicked");
    expect(lossOf(ev({ type: "m.room.member", state_key: bot, content: { membership: "ban" } }), bot)).toBe("banned");
    expect(lossOf(ev({ type: "m.room.member", state_key: bot, sender: bot, content: { membership: "leave" } }), bot)).toBeUndefined();
    const pl = (before: unknown, after: unknown) => ev({ type: "m.room.power_levels", state_key: "", content: { users: after }, unsigned: { prev_content: { users: before } } });
    expect(lossOf(pl({ [bot]: 100 }, { [bot]: 50 }), bot)).toBe("power");
    expect(lossOf(pl({ [bot]: 100 }, {}), bot)).toBe("power");
    expect(lossOf(pl({}, {}), bot)).toBeUndefined();
    expect(lossOf(pl({ [bot]: 50 }, { [bot]: 100 }), bot)).toBeUndefined();
  });
});

describe("loket rooms --json", () => {
  it("lists each room as the contract says, departments with their id", () => {
    const applied = { name: "", topic: "", alias: "", members: [], powerUsers: {}, state: { kind: "space" as const, municipality: "u" }, published: false };
    const list = roomListing([
      { municipality: "u", key: "department:a", kind: "department", department: "a", roomId: "!d" as RoomId, alias: "#d:x", name: "D", applied },
      { municipality: "u", key: "space", kind: "space", department: null, roomId: "!s" as RoomId, alias: "#s:x", name: "S", applied },
    ]);
    expect(list).toEqual([
      { municipality: "u", kind: "space", room_id: "!s", alias: "#s:x", name: "S" },
      { municipality: "u", kind: "department", room_id: "!d", alias: "#d:x", name: "D", department: "a" },
    ]);
  });
});

describe("federation.allowed_servers in department rooms", () => {
  it("puts a server ACL on department rooms only, and a change of the list is reconciled once", () => {
    const open = parseConfig({ ...base, municipalities: [utrecht] }).config;
    const closed = parseConfig({ ...base, municipalities: [utrecht], federation: { allowed_servers: ["provincie.example.nl", "other.nl"] } }).config;
    const [mOpen] = open.municipalities;
    const [mClosed] = closed.municipalities;
    if (!mOpen || !mClosed) throw new Error("no municipality");
    const [space, desk, dep] = desiredRooms(closed, mClosed);
    expect(space?.acl).toBeNull();
    expect(desk?.acl).toBeNull();
    expect(dep?.acl).toEqual({ allow: ["example.nl", "other.nl", "provincie.example.nl"], deny: [], allow_ip_literals: false });
    // A room created while the list was empty gets the ACL at the next start, then nothing more.
    const [, , before] = desiredRooms(open, mOpen);
    if (!before || !dep) throw new Error("no department room");
    const applied = appliedFrom(before, undefined);
    expect(diffRoom(applied, before).acl).toBeUndefined();
    expect(diffRoom(applied, dep).acl).toEqual(dep.acl);
    expect(hasChanges(diffRoom(appliedFrom(dep, undefined), dep))).toBe(false);
    // Emptying the list again opens the room.
    expect(diffRoom(appliedFrom(dep, undefined), before).acl).toBeNull();
  });
});

describe("loket rooms --json", () => {
  it("lists inter-government rooms with their id and no alias, after the owner's own rooms", () => {
    const list = roomListing([], [{ id: "regio-utrecht", owner: "utrecht", roomId: "!r:example.nl", name: "Regio Utrecht" }]);
    expect(list).toEqual([{ municipality: "utrecht", kind: "intergov", room_id: "!r:example.nl", alias: null, name: "Regio Utrecht", id: "regio-utrecht" }]);
  });
});
