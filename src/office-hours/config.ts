// The config blocks of this capability: municipalities[].office_hours and .response_term, and
// the same on departments. Imported by src/config/schema.ts; every check here reports the key
// path of the offending value (for example municipalities.0.office_hours.weekly.monday.1).
import { z } from "zod";
import { parseDay, WEEKDAYS, type Weekday } from "./civil.ts";
import { checkIntervals } from "./intervals.ts";
import { isTimeZone } from "./zone.ts";

/** Used when a municipality has no office_hours block: weekdays 09:00-17:00. */
export const DEFAULT_WEEKLY: Record<Weekday, string[]> = {
  monday: ["09:00-17:00"], tuesday: ["09:00-17:00"], wednesday: ["09:00-17:00"],
  thursday: ["09:00-17:00"], friday: ["09:00-17:00"], saturday: [], sunday: [],
};
export const DEFAULT_RESPONSE_TERM = { working_hours: 8 };

const hours = (description: string) => z.array(z.string()).superRefine((list, ctx) => {
  for (const p of checkIntervals(list)) ctx.addIssue({ code: "custom", path: [p.index], message: p.message });
}).describe(description);

const weekdayShape = Object.fromEntries(WEEKDAYS.map((day) => [
  day, hours(`Opening intervals on ${day} ("08:30-12:00", several for split shifts); missing or []: closed.`).default([]),
])) as Record<Weekday, z.ZodDefault<ReturnType<typeof hours>>>;

// Loose, so that the check below sees unknown keys and names each one's path (weekly.mondag).
const weekly = z.looseObject(weekdayShape).superRefine((week, ctx) => {
  for (const key of Object.keys(week)) {
    if (!(WEEKDAYS as readonly string[]).includes(key)) {
      ctx.addIssue({ code: "custom", path: [key], message: `unknown weekday '${key}' (use ${WEEKDAYS.join(", ")})` });
    }
  }
  if (!WEEKDAYS.some((day) => week[day].length > 0)) {
    ctx.addIssue({ code: "custom", message: "no opening hours on any weekday: a response term would never run out" });
  }
});

const exception = z.object({
  date: z.string().refine((d) => parseDay(d) !== undefined, "not a date like 2026-12-24 (YYYY-MM-DD)")
    .describe("The local date (YYYY-MM-DD)."),
  hours: hours("Opening intervals on that date instead of the usual ones; [] closes the day."),
  reason: z.string().default("").describe("Why (for operators, for example 'Kerstavond')."),
});

const holidays = z.object({
  good_friday: z.enum(["closed", "open"]).default("closed")
    .describe("Goede Vrijdag: closed, or open (many town halls are)."),
  liberation_day: z.enum(["every_year", "lustrum", "open"]).default("every_year")
    .describe("Bevrijdingsdag (5 May): closed every year, only in years divisible by 5 (lustrum), or open."),
});

export const officeHoursSchema = z.object({
  timezone: z.string().refine(isTimeZone, "not an IANA time zone (for example Europe/Amsterdam)")
    .default("Europe/Amsterdam").describe("IANA time zone of the opening hours."),
  weekly: weekly.default(DEFAULT_WEEKLY).meta({ example: DEFAULT_WEEKLY })
    .describe("Opening intervals per weekday (monday ... sunday), half-open, \"00:00-24:00\" for a whole day; a missing weekday is closed. Default: Monday to Friday 09:00-17:00."),
  holidays: holidays.prefault({})
    .describe("Dutch public holidays are computed and closed; these switches choose for the two that vary."),
  exceptions: z.array(exception).superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((e, i) => {
      if (seen.has(e.date)) ctx.addIssue({ code: "custom", path: [i, "date"], message: `duplicate exception date ${e.date}` });
      seen.add(e.date);
    });
  }).default([]).describe("Dates with other hours or closed, for example 24 and 31 December; an exception beats a holiday."),
});

export const responseTermSchema = z.object({
  working_hours: z.number().positive().max(1000).optional()
    .describe("Hours of open time, counted from receipt or, when closed, from the next opening."),
  working_days: z.number().int().positive().max(250).optional()
    .describe("The same clock time on the Nth following day with opening hours (that day's last closing if it closes earlier)."),
}).superRefine((term, ctx) => {
  if ((term.working_hours === undefined) === (term.working_days === undefined)) {
    ctx.addIssue({ code: "custom", message: "give either working_hours or working_days" });
  }
});

export type OfficeHoursConfig = z.infer<typeof officeHoursSchema>;
export type ResponseTermConfig = z.infer<typeof responseTermSchema>;
