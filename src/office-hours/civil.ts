// Civil (calendar) dates without a time zone, as whole day numbers: day 0 is 1970-01-01.
// Pure arithmetic on the proleptic Gregorian calendar; no Date objects leak out.

/** A calendar date as days since 1970-01-01 (day 0 was a Thursday). */
export type DayNumber = number;

const MS_PER_DAY = 86_400_000;

export const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export function dayNumber(year: number, month: number, day: number): DayNumber {
  return Math.round(Date.UTC(year, month - 1, day) / MS_PER_DAY);
}

export interface YearMonthDay {
  year: number;
  month: number;
  day: number;
}

export function civilOf(day: DayNumber): YearMonthDay {
  const d = new Date(day * MS_PER_DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Monday is 0, Sunday 6. */
export function weekdayIndex(day: DayNumber): number {
  return (((day + 3) % 7) + 7) % 7;
}

export function weekdayOf(day: DayNumber): Weekday {
  return WEEKDAYS[weekdayIndex(day)] ?? "monday";
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/** YYYY-MM-DD */
export function formatDay(day: DayNumber): string {
  const { year, month, day: d } = civilOf(day);
  return `${pad(year, 4)}-${pad(month)}-${pad(d)}`;
}

/** Parses YYYY-MM-DD; undefined when malformed or not a real date (2026-02-30). */
export function parseDay(text: string): DayNumber | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [year, month, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || d < 1) return undefined;
  const n = dayNumber(year, month, d);
  const back = civilOf(n);
  return back.month === month && back.day === d ? n : undefined;
}
