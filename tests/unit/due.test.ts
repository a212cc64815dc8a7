// When a message is due: working hours and working days counted in open time only, over
// weekends, holidays, exceptions, both DST changes, and terms longer than a week.
import { describe, expect, it } from "vitest";
import { isoLocal, Schedule, type OfficeHours, type ResponseTerm } from "../../src/office-hours/index.ts";

const week = (hours: string[]) => ({ monday: hours, tuesday: hours, wednesday: hours, thursday: hours, friday: hours });

function schedule(over: Partial<OfficeHours> = {}): Schedule {
  return new Schedule({
    timezone: "Europe/Amsterdam",
    weekly: week(["08:30-12:00", "13:00-17:00"]),
    holidays: { good_friday: "closed", liberation_day: "every_year" },
    exceptions: [
      { date: "2026-12-24", hours: ["08:30-15:00"], reason: "Kerstavond" },
      { date: "2026-12-31", hours: [], reason: "Oudejaarsdag" },
    ],
    ...over,
  });
}
const due = (s: Schedule, received: string, term: ResponseTerm): string =>
  isoLocal(s.due(new Date(received), term).getTime(), s.timezone);
const hours = (n: number): ResponseTerm => ({ working_hours: n });
const days = (n: number): ResponseTerm => ({ working_days: n });

describe("working hours", () => {
  const s = schedule();
  it("Friday 16:55 + 4 working hours is Monday afternoon (5 min, then 3h30 until 12:00, then 25 min)", () => {
    expect(due(s, "2026-01-16T16:55:00+01:00", hours(4))).toBe("2026-01-19T13:25:00+01:00");
  });

  it("count from the next opening when received while closed", () => {
    expect(due(s, "2026-01-17T10:00:00+01:00", hours(1))).toBe("2026-01-19T09:30:00+01:00");
    expect(due(s, "2026-01-19T12:15:00+01:00", hours(1))).toBe("2026-01-19T14:00:00+01:00");
    expect(due(s, "2026-01-19T11:50:00+01:00", hours(0.5))).toBe("2026-01-19T13:20:00+01:00");
  });

  it("run out at the end of an interval when they end exactly there, not at the next opening", () => {
    expect(due(s, "2026-01-19T08:30:00+01:00", hours(3.5))).toBe("2026-01-19T12:00:00+01:00");
    expect(due(s, "2026-01-19T13:00:00+01:00", hours(4))).toBe("2026-01-19T17:00:00+01:00");
  });

  it("skip Goede Vrijdag and Tweede Paasdag over Easter, Goede Vrijdag only when closed", () => {
    expect(due(s, "2026-04-02T16:00:00+02:00", hours(4))).toBe("2026-04-07T11:30:00+02:00");
    const open = schedule({ holidays: { good_friday: "open", liberation_day: "every_year" } });
    expect(due(open, "2026-04-02T16:00:00+02:00", hours(4))).toBe("2026-04-03T11:30:00+02:00");
  });

  it("skip Tweede Pinksterdag and Hemelvaartsdag", () => {
    expect(due(s, "2026-05-22T16:00:00+02:00", hours(4))).toBe("2026-05-26T11:30:00+02:00");
    expect(due(s, "2026-05-13T16:00:00+02:00", hours(2))).toBe("2026-05-15T09:30:00+02:00");
  });

  it("over Christmas and New Year follow the exceptions and skip the holidays", () => {
    expect(due(s, "2026-12-24T14:00:00+01:00", hours(4))).toBe("2026-12-28T11:30:00+01:00");
    expect(due(s, "2026-12-30T16:00:00+01:00", hours(4))).toBe("2027-01-04T11:30:00+01:00");
  });

  it("are real hours across the spring change: Friday before, Monday after, offset +02:00", () => {
    expect(due(s, "2026-03-27T16:00:00+01:00", hours(4))).toBe("2026-03-30T11:30:00+02:00");
    const always = schedule({ weekly: { sunday: ["00:00-24:00"], monday: ["00:00-24:00"] } });
    // 29 March has 23 hours: 23 working hours from its midnight end exactly at its end.
    expect(due(always, "2026-03-29T00:00:00+01:00", hours(23))).toBe("2026-03-30T00:00:00+02:00");
    expect(due(always, "2026-03-29T00:00:00+01:00", hours(24))).toBe("2026-03-30T01:00:00+02:00");
  });

  it("are real hours across the autumn change: 25 October has 25 hours", () => {
    expect(due(s, "2026-10-23T16:00:00+02:00", hours(4))).toBe("2026-10-26T11:30:00+01:00");
    const always = schedule({ weekly: { sunday: ["00:00-24:00"], monday: ["00:00-24:00"] } });
    expect(due(always, "2026-10-25T00:00:00+02:00", hours(24))).toBe("2026-10-25T23:00:00+01:00");
    expect(due(always, "2026-10-25T00:00:00+02:00", hours(25))).toBe("2026-10-26T00:00:00+01:00");
  });

  it("can be longer than a week (7.5 open hours a day: 50 hours is 6 days and 5 hours, 90 is 12 days)", () => {
    expect(due(s, "2026-06-01T08:30:00+02:00", hours(50))).toBe("2026-06-09T14:30:00+02:00");
    expect(due(s, "2026-06-01T08:30:00+02:00", hours(90))).toBe("2026-06-16T17:00:00+02:00");
  });
});

describe("working days", () => {
  const s = schedule();
  it("are the same clock time on the Nth following day with opening hours", () => {
    expect(due(s, "2026-01-19T10:15:00+01:00", days(2))).toBe("2026-01-21T10:15:00+01:00");
    expect(due(s, "2026-01-16T16:55:00+01:00", days(1))).toBe("2026-01-19T16:55:00+01:00");
  });

  it("count from the next opening when received while closed", () => {
    expect(due(s, "2026-01-17T20:00:00+01:00", days(2))).toBe("2026-01-21T08:30:00+01:00");
    expect(due(s, "2026-01-19T12:30:00+01:00", days(1))).toBe("2026-01-20T13:00:00+01:00");
  });

  it("are due at that day's last closing when it closes earlier", () => {
    const short = schedule({ weekly: { ...week(["09:00-17:00"]), friday: ["09:00-12:00"] } });
    expect(due(short, "2026-01-15T16:00:00+01:00", days(1))).toBe("2026-01-16T12:00:00+01:00");
    expect(due(s, "2026-12-23T16:00:00+01:00", days(1))).toBe("2026-12-24T15:00:00+01:00");
  });

  it("skip holidays, exception days without hours and weekends: over Easter and New Year", () => {
    expect(due(s, "2026-04-02T10:00:00+02:00", days(1))).toBe("2026-04-07T10:00:00+02:00");
    expect(due(s, "2026-12-30T10:00:00+01:00", days(1))).toBe("2027-01-04T10:00:00+01:00");
  });

  it("keep the local clock time across the DST changes", () => {
    expect(due(s, "2026-03-27T10:00:00+01:00", days(1))).toBe("2026-03-30T10:00:00+02:00");
    expect(due(s, "2026-10-23T10:00:00+02:00", days(1))).toBe("2026-10-26T10:00:00+01:00");
  });

  it("keep the clock time even when that day opens later", () => {
    const late = schedule({ weekly: { monday: ["08:30-17:00"], tuesday: ["13:00-17:00"] } });
    expect(due(late, "2026-01-19T08:30:00+01:00", days(1))).toBe("2026-01-20T08:30:00+01:00");
  });

  it("can be longer than a week", () => {
    expect(due(s, "2026-06-01T10:00:00+02:00", days(7))).toBe("2026-06-10T10:00:00+02:00");
  });
});
