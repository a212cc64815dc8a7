// Local time in a time zone (Intl time-zone data) and dates in words.
import { describe, expect, it } from "vitest";
import { fromLocal, isoLocal, isTimeZone, toLocal } from "../../src/office-hours/zone.ts";
import { dayNumber } from "../../src/office-hours/civil.ts";
import { dateInWords } from "../../src/office-hours/words.ts";

const AMS = "Europe/Amsterdam";
const HOUR = 3_600_000;
const utc = (text: string): number => Date.parse(text);

describe("time zone", () => {
  it("turns wall-clock times into instants, winter and summer", () => {
    expect(fromLocal(dayNumber(2026, 1, 15), 9 * HOUR, AMS)).toBe(utc("2026-01-15T08:00:00Z"));
    expect(fromLocal(dayNumber(2026, 7, 15), 9 * HOUR, AMS)).toBe(utc("2026-07-15T07:00:00Z"));
    expect(toLocal(utc("2026-07-15T07:00:00Z"), AMS)).toEqual({ day: dayNumber(2026, 7, 15), msOfDay: 9 * HOUR });
  });

  it("maps the skipped hour in spring to the moment the clocks jump", () => {
    const day = dayNumber(2026, 3, 29);
    expect(fromLocal(day, 2 * HOUR, AMS)).toBe(utc("2026-03-29T01:00:00Z"));
    expect(fromLocal(day, 2.5 * HOUR, AMS)).toBe(utc("2026-03-29T01:00:00Z"));
    expect(fromLocal(day, 3 * HOUR, AMS)).toBe(utc("2026-03-29T01:00:00Z"));
    expect(fromLocal(day, 1.5 * HOUR, AMS)).toBe(utc("2026-03-29T00:30:00Z"));
  });

  it("takes the first of the repeated hour in autumn", () => {
    const day = dayNumber(2026, 10, 25);
    expect(fromLocal(day, 2.5 * HOUR, AMS)).toBe(utc("2026-10-25T00:30:00Z"));
    expect(fromLocal(day, 3 * HOUR, AMS)).toBe(utc("2026-10-25T02:00:00Z"));
    expect(toLocal(utc("2026-10-25T01:30:00Z"), AMS).msOfDay).toBe(2.5 * HOUR);
  });

  it("prints ISO 8601 with the local offset", () => {
    expect(isoLocal(utc("2026-03-29T00:59:59Z"), AMS)).toBe("2026-03-29T01:59:59+01:00");
    expect(isoLocal(utc("2026-03-29T01:00:00Z"), AMS)).toBe("2026-03-29T03:00:00+02:00");
    expect(isoLocal(utc("2026-01-01T00:00:00Z"), "America/St_Johns")).toBe("2025-12-31T20:30:00-03:30");
    expect(isoLocal(utc("2026-01-01T00:00:00Z"), "UTC")).toBe("2026-01-01T00:00:00+00:00");
  });

  it("knows IANA names", () => {
    expect(isTimeZone(AMS)).toBe(true);
    expect(isTimeZone("Europe/Amsterdm")).toBe(false);
  });
});

describe("dates in words", () => {
  it("are in Dutch or English, in local time", () => {
    const d = new Date("2024-04-02T07:00:00Z");
    expect(dateInWords(d, AMS, "nl")).toBe("dinsdag 2 april 09:00");
    expect(dateInWords(d, AMS, "en")).toBe("Tuesday 2 April 09:00");
    expect(dateInWords(new Date("2026-12-31T23:05:00Z"), AMS, "nl")).toBe("vrijdag 1 januari 00:05");
  });
});
