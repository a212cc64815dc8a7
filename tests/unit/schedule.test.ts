// Open or closed, the next opening and the closing time: split shifts, holidays, exceptions,
// and both DST changes (Europe/Amsterdam, 2026: 29 March 02:00 -> 03:00, 25 October 03:00 -> 02:00).
import { describe, expect, it } from "vitest";
import { isoLocal, Schedule, type OfficeHours } from "../../src/office-hours/index.ts";

const AMS = "Europe/Amsterdam";
const at = (text: string): Date => new Date(text);
const CLOSED_SWITCHES = { good_friday: "closed", liberation_day: "every_year" } as const;
const week = (hours: string[]) => ({ monday: hours, tuesday: hours, wednesday: hours, thursday: hours, friday: hours });

function schedule(over: Partial<OfficeHours> = {}): Schedule {
  return new Schedule({
    timezone: AMS,
    weekly: week(["08:30-12:00", "13:00-17:00"]),
    holidays: CLOSED_SWITCHES,
    exceptions: [
      { date: "2026-12-24", hours: ["08:30-15:00"], reason: "Kerstavond" },
      { date: "2026-12-31", hours: [], reason: "Oudejaarsdag" },
    ],
    ...over,
  });
}
const local = (s: Schedule, d: Date | null): string | null => (d === null ? null : isoLocal(d.getTime(), s.timezone));

describe("split shifts", () => {
  const s = schedule();
  it("are open from the start of an interval up to, not including, its end", () => {
    expect(s.isOpen(at("2026-01-12T08:29:59+01:00"))).toBe(false);
    expect(s.isOpen(at("2026-01-12T08:30:00+01:00"))).toBe(true);
    expect(s.isOpen(at("2026-01-12T11:59:59+01:00"))).toBe(true);
    expect(s.isOpen(at("2026-01-12T12:00:00+01:00"))).toBe(false);
    expect(s.isOpen(at("2026-01-12T13:00:00+01:00"))).toBe(true);
    expect(s.isOpen(at("2026-01-12T17:00:00+01:00"))).toBe(false);
  });

  it("give the next opening while closed and the closing time while open", () => {
    expect(local(s, s.nextOpening(at("2026-01-12T12:30:00+01:00")))).toBe("2026-01-12T13:00:00+01:00");
    expect(s.nextOpening(at("2026-01-12T10:00:00+01:00"))).toBeNull();
    expect(local(s, s.closesAt(at("2026-01-12T10:00:00+01:00")))).toBe("2026-01-12T12:00:00+01:00");
    expect(s.closesAt(at("2026-01-12T12:30:00+01:00"))).toBeNull();
    expect(local(s, s.nextOpening(at("2026-01-16T17:00:00+01:00")))).toBe("2026-01-19T08:30:00+01:00");
  });

  it("join up when one interval ends where the next starts, also across midnight", () => {
    const joined = schedule({ weekly: { monday: ["08:00-12:00", "12:00-17:00"], friday: ["20:00-24:00"], saturday: ["00:00-02:00"] } });
    expect(local(joined, joined.closesAt(at("2026-01-12T09:00:00+01:00")))).toBe("2026-01-12T17:00:00+01:00");
    expect(local(joined, joined.closesAt(at("2026-01-16T21:00:00+01:00")))).toBe("2026-01-17T02:00:00+01:00");
    expect(joined.isOpen(at("2026-01-17T00:00:00+01:00"))).toBe(true);
  });
});

describe("holidays and exceptions", () => {
  const s = schedule();
  it("close Goede Vrijdag and Tweede Paasdag: closed on Thursday evening until Tuesday", () => {
    expect(s.isOpen(at("2026-04-03T10:00:00+02:00"))).toBe(false);
    expect(s.isOpen(at("2026-04-06T10:00:00+02:00"))).toBe(false);
    expect(local(s, s.nextOpening(at("2026-04-02T17:00:00+02:00")))).toBe("2026-04-07T08:30:00+02:00");
    const open = schedule({ holidays: { good_friday: "open", liberation_day: "every_year" } });
    expect(local(open, open.nextOpening(at("2026-04-02T17:00:00+02:00")))).toBe("2026-04-03T08:30:00+02:00");
  });

  it("close Hemelvaartsdag and Tweede Pinksterdag", () => {
    expect(local(s, s.nextOpening(at("2026-05-13T17:30:00+02:00")))).toBe("2026-05-15T08:30:00+02:00");
    expect(local(s, s.nextOpening(at("2026-05-22T17:30:00+02:00")))).toBe("2026-05-26T08:30:00+02:00");
  });

  it("over Christmas and New Year follow the exceptions (24 until 15:00, 31 closed)", () => {
    expect(local(s, s.closesAt(at("2026-12-24T14:00:00+01:00")))).toBe("2026-12-24T15:00:00+01:00");
    expect(local(s, s.nextOpening(at("2026-12-24T15:00:00+01:00")))).toBe("2026-12-28T08:30:00+01:00");
    expect(local(s, s.nextOpening(at("2026-12-30T17:00:00+01:00")))).toBe("2027-01-04T08:30:00+01:00");
  });

  it("let an exception beat a holiday, and leave that day out of the holiday list", () => {
    const s2 = schedule({ exceptions: [{ date: "2026-04-06", hours: ["10:00-12:00"] }] });
    expect(s2.isOpen(at("2026-04-06T11:00:00+02:00"))).toBe(true);
    expect(s2.isOpen(at("2026-04-06T09:00:00+02:00"))).toBe(false);
    expect(s2.holidays(2026).map((h) => h.name)).not.toContain("Tweede Paasdag");
    expect(s2.holidays(2026)).toContainEqual({ date: "2026-04-03", name: "Goede Vrijdag" });
  });
});

describe("daylight saving time", () => {
  it("in spring: the clocks jump from 02:00 to 03:00 and the offset changes", () => {
    const s = schedule({ weekly: { friday: ["09:00-17:00"], sunday: ["01:00-02:30"], monday: ["09:00-17:00"] } });
    expect(local(s, s.nextOpening(at("2026-03-27T18:00:00+01:00")))).toBe("2026-03-29T01:00:00+01:00");
    // 02:30 does not exist on that day: the interval ends when the clocks jump.
    expect(local(s, s.closesAt(at("2026-03-29T01:30:00+01:00")))).toBe("2026-03-29T03:00:00+02:00");
    expect(s.isOpen(at("2026-03-29T03:00:00+02:00"))).toBe(false);
    expect(local(s, s.nextOpening(at("2026-03-29T03:00:00+02:00")))).toBe("2026-03-30T09:00:00+02:00");
  });

  it("in autumn: an interval over the repeated hour lasts an hour longer", () => {
    const s = schedule({ weekly: { sunday: ["02:00-03:00"], monday: ["09:00-17:00"] } });
    expect(s.isOpen(at("2026-10-25T02:30:00+02:00"))).toBe(true); // first 02:30
    expect(s.isOpen(at("2026-10-25T02:30:00+01:00"))).toBe(true); // second 02:30
    expect(local(s, s.closesAt(at("2026-10-25T02:10:00+02:00")))).toBe("2026-10-25T03:00:00+01:00");
    expect(local(s, s.nextOpening(at("2026-10-24T12:00:00+02:00")))).toBe("2026-10-25T02:00:00+02:00");
    expect(local(s, s.nextOpening(at("2026-10-25T03:00:00+01:00")))).toBe("2026-10-26T09:00:00+01:00");
  });

  it("works in other time zones", () => {
    const s = schedule({ timezone: "America/New_York", weekly: week(["09:00-17:00"]), exceptions: [] });
    expect(s.isOpen(at("2026-03-09T09:00:00-04:00"))).toBe(true);
    expect(local(s, s.nextOpening(at("2026-03-06T17:00:00-05:00")))).toBe("2026-03-09T09:00:00-04:00");
  });
});
