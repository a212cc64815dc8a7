// Dutch public holidays 2024-2035 against the rules, Easter against published dates.
import { describe, expect, it } from "vitest";
import { closedHolidays, dutchHolidays, easterSunday, formatDay } from "../../src/office-hours/index.ts";

// Easter Sunday as published (for example by the Dutch Wikipedia "Pasen" table).
const PUBLISHED_EASTER: Record<number, string> = {
  2024: "2024-03-31", 2025: "2025-04-20", 2026: "2026-04-05", 2027: "2027-03-28",
  2028: "2028-04-16", 2029: "2029-04-01", 2030: "2030-04-21", 2031: "2031-04-13",
  2032: "2032-03-28", 2033: "2033-04-17", 2034: "2034-04-09", 2035: "2035-03-25",
};

// The rules, computed here with Date arithmetic independently of the module.
const utc = (y: number, m: number, d: number): Date => new Date(Date.UTC(y, m - 1, d));
const iso = (d: Date): string => d.toISOString().slice(0, 10);
const plus = (isoDay: string, days: number): string => iso(new Date(Date.parse(isoDay) + days * 86_400_000));
const weekday = (isoDay: string): number => new Date(isoDay).getUTCDay(); // 0 Sunday

function expected(year: number): Record<string, string> {
  const easter = PUBLISHED_EASTER[year] ?? "";
  const kings = utc(year, 4, 27).getUTCDay() === 0 ? utc(year, 4, 26) : utc(year, 4, 27);
  return {
    Nieuwjaarsdag: `${year}-01-01`, "Goede Vrijdag": plus(easter, -2), "Eerste Paasdag": easter,
    "Tweede Paasdag": plus(easter, 1), Koningsdag: iso(kings), Bevrijdingsdag: `${year}-05-05`,
    Hemelvaartsdag: plus(easter, 39), "Eerste Pinksterdag": plus(easter, 49), "Tweede Pinksterdag": plus(easter, 50),
    "Eerste Kerstdag": `${year}-12-25`, "Tweede Kerstdag": `${year}-12-26`,
  };
}

const byName = (list: { name: string; date: string }[]): Record<string, string> =>
  Object.fromEntries(list.map((h) => [h.name, h.date]));

describe("Easter", () => {
  it("matches the published dates 2024-2035 and the extremes of the Gregorian calendar", () => {
    for (const [year, date] of Object.entries(PUBLISHED_EASTER)) expect(formatDay(easterSunday(Number(year)))).toBe(date);
    expect(formatDay(easterSunday(1818))).toBe("1818-03-22"); // earliest possible
    expect(formatDay(easterSunday(2285))).toBe("2285-03-22");
    expect(formatDay(easterSunday(1943))).toBe("1943-04-25"); // latest possible
    expect(formatDay(easterSunday(2038))).toBe("2038-04-25");
  });
});

describe("Dutch public holidays", () => {
  it("follow the rules in every year 2024-2035, with the Dutch names, in date order", () => {
    for (let year = 2024; year <= 2035; year++) {
      const list = dutchHolidays(year);
      expect(byName(list)).toEqual(expected(year));
      const dates = list.map((h) => h.date);
      expect(dates).toEqual([...dates].sort());
      const days = byName(list);
      expect(weekday(days["Goede Vrijdag"] ?? "")).toBe(5);
      expect(weekday(days["Hemelvaartsdag"] ?? "")).toBe(4);
      expect(weekday(days["Tweede Pinksterdag"] ?? "")).toBe(1);
      expect(weekday(days.Koningsdag ?? "")).not.toBe(0);
    }
  });

  it("moves Koningsdag to Saturday 26 April when the 27th is a Sunday (2025, 2031)", () => {
    expect(byName(dutchHolidays(2025)).Koningsdag).toBe("2025-04-26");
    expect(byName(dutchHolidays(2031)).Koningsdag).toBe("2031-04-26");
    expect(byName(dutchHolidays(2026)).Koningsdag).toBe("2026-04-27");
  });

  it("agrees with the reference table for 2025-2028", () => {
    const table = { 2025: ["2025-05-29", "2025-06-09"], 2026: ["2026-05-14", "2026-05-25"], 2027: ["2027-05-06", "2027-05-17"], 2028: ["2028-05-25", "2028-06-05"] };
    for (const [year, [ascension, whitMonday]] of Object.entries(table)) {
      const days = byName(dutchHolidays(Number(year)));
      expect([days.Hemelvaartsdag, days["Tweede Pinksterdag"]]).toEqual([ascension, whitMonday]);
    }
  });

  it("closes Goede Vrijdag and Bevrijdingsdag by default, and follows the switches", () => {
    const names = (year: number, good_friday: "closed" | "open", liberation_day: "every_year" | "lustrum" | "open") =>
      closedHolidays(year, { good_friday, liberation_day }).map((h) => h.name);
    expect(closedHolidays(2026).map((h) => h.name)).toEqual([
      "Nieuwjaarsdag", "Goede Vrijdag", "Eerste Paasdag", "Tweede Paasdag", "Koningsdag", "Bevrijdingsdag",
      "Hemelvaartsdag", "Eerste Pinksterdag", "Tweede Pinksterdag", "Eerste Kerstdag", "Tweede Kerstdag",
    ]);
    expect(names(2026, "open", "every_year")).not.toContain("Goede Vrijdag");
    for (let year = 2024; year <= 2035; year++) {
      expect(names(year, "closed", "lustrum").includes("Bevrijdingsdag")).toBe(year === 2025 || year === 2030 || year === 2035);
      expect(names(year, "closed", "open")).not.toContain("Bevrijdingsdag");
      expect(names(year, "closed", "every_year")).toContain("Bevrijdingsdag");
    }
  });
});
