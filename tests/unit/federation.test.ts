import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/load.ts";
import { hostOf, isAclHostName, serverAclFor } from "../../src/federation/acl.ts";
import { creatorsAreUnlimited, intergovPowerLevels } from "../../src/federation/room-state.ts";

const own = "hs-a.test:8481";

describe("server ACL of managed rooms", () => {
  it("an inter-government room allows its servers and the own server by host and by name", () => {
    expect(serverAclFor("intergov", { ownServerName: own, allowedServers: [], roomServers: ["hs-c.test", "hs-b.test"] })).toEqual({
      allow: ["hs-a.test", "hs-a.test:8481", "hs-b.test", "hs-c.test"], deny: [], allow_ip_literals: false,
    });
  });

  it("a server name without port is allowed once", () => {
    expect(serverAclFor("intergov", { ownServerName: "utrecht.nl", allowedServers: [], roomServers: ["utrecht.nl"] })?.allow).toEqual(["utrecht.nl"]);
  });

  it("federation.allowed_servers restricts inter-government and department rooms only", () => {
    const input = { ownServerName: own, allowedServers: ["hs-b.test"], roomServers: ["hs-b.test", "hs-c.test"] };
    expect(serverAclFor("intergov", input)?.allow).toEqual(["hs-a.test", own, "hs-b.test"]);
    expect(serverAclFor("department", input)?.allow).toEqual(["hs-a.test", own, "hs-b.test"]);
    for (const kind of ["service_desk", "conversation", "space"] as const) expect(serverAclFor(kind, input)).toBeNull();
  });

  it("without federation.allowed_servers a department room is open to every server", () => {
    expect(serverAclFor("department", { ownServerName: own, allowedServers: [] })).toBeNull();
  });

  it("knows host names as an ACL matches them", () => {
    expect(["utrecht.nl", "hs-b.test", "matrix.provincie-utrecht.nl"].every(isAclHostName)).toBe(true);
    expect(["hs-b.test:8448", "10.0.0.1", "[::1]", "*.overheid.nl", "Utrecht.NL", "-a.nl", ""].some(isAclHostName)).toBe(false);
    expect(hostOf("hs-a.test:8481")).toBe("hs-a.test");
    expect(hostOf("[::1]:8448")).toBe("[::1]");
  });
});

describe("power levels of an inter-government room", () => {
  it("gives staff 50 and the bot 100, except where creators stand above every level", () => {
    const bot = "@gemeente_a:hs-a.test:8481";
    expect(intergovPowerLevels(bot, ["@b:hs-b.test:1"], "10").users).toEqual({ [bot]: 100, "@b:hs-b.test:1": 50 });
    expect(intergovPowerLevels(bot, ["@b:hs-b.test:1"], "12").users).toEqual({ "@b:hs-b.test:1": 50 });
    expect(creatorsAreUnlimited("org.matrix.hydra.11")).toBe(true);
    expect(creatorsAreUnlimited("11")).toBe(false);
  });
});

describe("federation config", () => {
  const base = {
    homeserver: { domain: "hs-a.test:8481" },
    appservice: { as_token: "a".repeat(32), hs_token: "h".repeat(32) },
    municipalities: [{ id: "a", name: "Gemeente A", bot_localpart: "gemeente_a" }],
  };
  const room = { id: "regio", name: "Regio", owner: "a", servers: ["hs-b.test"], staff: ["@ana:hs-a.test:8481", "@bram:hs-b.test:8482"] };

  function problemsOf(federation: unknown): Record<string, string> {
    try {
      parseConfig({ ...base, federation });
    } catch (err) {
      if (err instanceof ConfigError) return Object.fromEntries(err.problems.map((p) => [p.path, p.message]));
      throw err;
    }
    return {};
  }

  it("accepts rooms and allowed servers", () => {
    const { config } = parseConfig({ ...base, federation: { allowed_servers: ["hs-b.test"], rooms: [room] } });
    expect(config.federation.rooms[0]).toEqual(room);
    expect(parseConfig(base).config.federation).toEqual({ allowed_servers: [], rooms: [] });
  });

  it("refuses bad rooms with the key path", () => {
    const problems = problemsOf({
      allowed_servers: ["hs-b.test", "hs-c.test:8483"],
      rooms: [
        room,
        { ...room, owner: "zuid", servers: ["hs-b.test", "hs-x.test", "10.1.2.3"], staff: ["@carol:hs-c.test:8483"] },
      ],
    });
    expect(problems).toEqual({
      "federation.allowed_servers.1": expect.stringMatching(/no port/) as string,
      "federation.rooms.1.id": "duplicate inter-government room id 'regio'",
      "federation.rooms.1.owner": "unknown municipality 'zuid'",
      "federation.rooms.1.servers.1": "server 'hs-x.test' is not in federation.allowed_servers",
      "federation.rooms.1.servers.2": expect.stringMatching(/not a server host name/) as string,
      "federation.rooms.1.staff.0": expect.stringMatching(/'@carol:hs-c.test:8483' is on a server the room does not allow/) as string,
    });
  });
});
