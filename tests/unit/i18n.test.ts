import { describe, expect, it } from "vitest";
import { directoryText, greetingText } from "../../src/conversations/greeting.ts";
import { parseConfig } from "../../src/config/load.ts";
import { t, translations } from "../../src/i18n/index.ts";
import { Municipalities } from "../../src/tenants/municipalities.ts";

describe("translations", () => {
  it("every language has every key, none empty", () => {
    const keys = Object.keys(translations.nl).sort();
    expect(Object.keys(translations.en).sort()).toEqual(keys);
    for (const lang of Object.values(translations)) for (const text of Object.values(lang)) expect(text.trim()).not.toBe("");
  });

  it("fills placeholders and leaves unknown ones visible", () => {
    expect(t("nl", "greeting", { name: "Gemeente Test" })).toMatch(/^Welkom bij Gemeente Test\./);
    expect(t("en", "greeting", {})).toContain("{name}");
  });

  it("greets in the municipality's language, or with its own text", () => {
    const { config } = parseConfig({
      homeserver: { domain: "hs.test" },
      appservice: { as_token: "aaaaaaaa", hs_token: "bbbbbbbb" },
      municipalities: [
        { id: "a", name: "Gemeente A", bot_localpart: "gemeente_a" },
        { id: "b", name: "Municipality B", bot_localpart: "gemeente_b", language: "en" },
        { id: "c", name: "Gemeente C", bot_localpart: "gemeente_c", greeting: "Hoi!" },
      ],
    });
    const [a, b, c] = new Municipalities(config).all;
    expect(a && greetingText(a)).toMatch(/^Welkom bij Gemeente A/);
    expect(b && greetingText(b)).toMatch(/^Welcome to Municipality B/);
    expect(c && greetingText(c)).toBe("Hoi!");
    expect(directoryText(new Municipalities(config).all)).toContain("- Gemeente A: @gemeente_a:hs.test");
  });
});
