import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.ts";
import { buildRegistration } from "../../src/matrix/registration.ts";

const { config } = parseConfig({
  homeserver: { domain: "gemeente.example.nl" },
  appservice: { as_token: "as-token-value", hs_token: "hs-token-value", public_url: "http://loket:9993" },
  municipalities: [
    { id: "utrecht", name: "Gemeente Utrecht", bot_localpart: "gemeente_utrecht" },
    { id: "zeist", name: "Gemeente Zeist", bot_localpart: "gemeente.zeist" },
  ],
});

// Synapse applies namespace regexes with Python's re.match: anchored at the start only.
const matches = (regex: string, s: string): boolean => new RegExp(`^(?:${regex})`).test(s);

describe("registration", () => {
  const reg = buildRegistration(config);

  it("carries the tokens, url and flags Synapse needs", () => {
    expect(reg).toMatchObject({
      id: "loket",
      url: "http://loket:9993",
      as_token: "as-token-value",
      hs_token: "hs-token-value",
      sender_localpart: "loket",
      rate_limited: false,
      receive_ephemeral: true,
    });
  });

  it("reserves every bot and the virtual-user prefix, and nothing else", () => {
    const claims = (id: string): boolean => reg.namespaces.users.some((n) => n.exclusive && matches(n.regex, id));
    expect(claims("@gemeente_utrecht:gemeente.example.nl")).toBe(true);
    expect(claims("@gemeente.zeist:gemeente.example.nl")).toBe(true);
    expect(claims("@loket_citizen42:gemeente.example.nl")).toBe(true);
    expect(claims("@gemeente_utrechtx:gemeente.example.nl")).toBe(false);
    expect(claims("@gemeenteXzeist:gemeente.example.nl")).toBe(false);
    expect(claims("@gemeente_utrecht:gemeente.example.nl.evil.com")).toBe(false);
    expect(claims("@alice:gemeente.example.nl")).toBe(false);
  });

  it("reserves the alias prefix", () => {
    const [alias] = reg.namespaces.aliases;
    expect(alias && matches(alias.regex, "#loket_utrecht:gemeente.example.nl")).toBe(true);
    expect(alias && matches(alias.regex, "#general:gemeente.example.nl")).toBe(false);
  });
});
