// A municipality's or department's opening hours as a pure function of time: open or closed,
// the next opening, the closing time, and when a response term runs out. Instants are Dates
// (epoch milliseconds inside); days are local days in the schedule's time zone.
import { civilOf, parseDay, weekdayOf, WEEKDAYS, type DayNumber, type Weekday } from "./civil.ts";
import { closedHolidays, type HolidaySwitches } from "./holidays.ts";
import { parseIntervals, type MinuteInterval } from "./intervals.ts";
import { fromLocal, toLocal } from "./zone.ts";

/** The office_hours block of the config (contract in the README). */
export interface OfficeHours {
  timezone: string;
  /** A weekday that is missing is closed. */
  weekly: Partial<Record<Weekday, readonly string[]>>;
  holidays: HolidaySwitches;
  /** An exception beats a holiday; `hours: []` closes the day. */
  exceptions: readonly { date: string; hours: readonly string[]; reason?: string }[];
}

export type ResponseTerm = { working_hours: number } | { working_days: number };

/** An open period [start, end) in epoch milliseconds. */
export interface Period {
  start: number;
  end: number;
}

const HOUR = 3_600_000;
/** How far ahead a schedule looks for opening time before it gives up. */
const HORIZON_DAYS = 3660;
const CACHE_LIMIT = 4096;

export class NeverOpenError extends Error {}

export class Schedule {
  readonly timezone: string;
  private readonly weekly: Map<Weekday, MinuteInterval[]>;
  private readonly exceptions: Map<DayNumber, MinuteInterval[]>;
  private readonly switches: HolidaySwitches;
  private readonly closedByYear = new Map<number, Set<DayNumber>>();
  private readonly periodsByDay = new Map<DayNumber, Period[]>();

  constructor(spec: OfficeHours) {
    this.timezone = spec.timezone;
    this.switches = spec.holidays;
    this.weekly = new Map(WEEKDAYS.map((day) => [day, parseIntervals(spec.weekly[day] ?? [])]));
    this.exceptions = new Map();
    for (const e of spec.exceptions) {
      const day = parseDay(e.date);
      if (day === undefined) throw new Error(`not a date: '${e.date}'`);
      this.exceptions.set(day, parseIntervals(e.hours));
    }
  }

  /** Whether the office is open at this moment (intervals are half-open). */
  isOpen(at: Date): boolean {
    const t = at.getTime();
    return this.periodsOn(toLocal(t, this.timezone).day).some((p) => p.start <= t && t < p.end);
  }

  /** The next moment the office opens; null while it is open. */
  nextOpening(at: Date): Date | null {
    if (this.isOpen(at)) return null;
    const first = this.periodsFrom(at.getTime()).next();
    if (first.done) throw new NeverOpenError("no opening hours within ten years");
    return new Date(first.value.start);
  }

  /** When the office closes, following intervals that join up (also across midnight); null while closed. */
  closesAt(at: Date): Date | null {
    if (!this.isOpen(at)) return null;
    let end = at.getTime();
    for (const p of this.periodsFrom(end)) {
      if (p.start > end) break;
      end = p.end;
    }
    return new Date(end);
  }

  /**
   * When a message received at `receivedAt` is due, counted in open time from receipt or, when
   * closed, from the next opening. working_hours: N hours of open time (a term that runs out
   * exactly at the end of an interval is due at that end). working_days: the same clock time on
   * the Nth following day that has opening hours, or that day's last closing when it closes
   * earlier.
   */
  due(receivedAt: Date, term: ResponseTerm): Date {
    return "working_hours" in term
      ? this.dueInHours(receivedAt.getTime(), term.working_hours * HOUR)
      : this.dueInDays(receivedAt.getTime(), term.working_days);
  }

  /** The open periods of a local day, after exceptions and holidays, in order. */
  periodsOn(day: DayNumber): Period[] {
    let periods = this.periodsByDay.get(day);
    if (!periods) {
      if (this.periodsByDay.size >= CACHE_LIMIT) this.periodsByDay.clear();
      periods = this.intervalsOn(day)
        .map((i) => ({ start: this.instant(day, i.start), end: this.instant(day, i.end) }))
        .filter((p) => p.start < p.end);
      this.periodsByDay.set(day, periods);
    }
    return periods;
  }

  /** The closed public holidays of a local year, without days that have an exception. */
  holidays(year: number): { date: string; name: string }[] {
    return closedHolidays(year, this.switches)
      .filter((h) => !this.exceptions.has(h.day))
      .map((h) => ({ date: h.date, name: h.name }));
  }

  private intervalsOn(day: DayNumber): MinuteInterval[] {
    const exception = this.exceptions.get(day);
    if (exception) return exception;
    if (this.isClosedHoliday(day)) return [];
    return this.weekly.get(weekdayOf(day)) ?? [];
  }

  private isClosedHoliday(day: DayNumber): boolean {
    const { year } = civilOf(day);
    let closed = this.closedByYear.get(year);
    if (!closed) {
      closed = new Set(closedHolidays(year, this.switches).map((h) => h.day));
      this.closedByYear.set(year, closed);
    }
    return closed.has(day);
  }

  /** Local minutes on a day to an instant; 24:00 is the next day's midnight. */
  private instant(day: DayNumber, minute: number): number {
    return minute === 1440 ? fromLocal(day + 1, 0, this.timezone) : fromLocal(day, minute * 60_000, this.timezone);
  }

  /** Open periods from `t` on, the first one cut to start no earlier than `t`. */
  private *periodsFrom(t: number): Generator<Period> {
    const first = toLocal(t, this.timezone).day;
    for (let day = first; day < first + HORIZON_DAYS; day++) {
      for (const p of this.periodsOn(day)) {
        if (p.end > t) yield { start: Math.max(p.start, t), end: p.end };
      }
    }
  }

  private dueInHours(t: number, term: number): Date {
    let left = term;
    for (const p of this.periodsFrom(t)) {
      const length = p.end - p.start;
      if (left <= length) return new Date(p.start + left);
      left -= length;
    }
    throw new NeverOpenError("the response term does not run out within ten years");
  }

  private dueInDays(t: number, days: number): Date {
    const first = this.periodsFrom(t).next();
    if (first.done) throw new NeverOpenError("no opening hours within ten years");
    const start = toLocal(first.value.start, this.timezone);
    let counted = 0;
    for (let day = start.day + 1; day < start.day + HORIZON_DAYS; day++) {
      const periods = this.periodsOn(day);
      const last = periods.at(-1);
      if (!last || ++counted < days) continue;
      return new Date(Math.min(fromLocal(day, start.msOfDay, this.timezone), last.end));
    }
    throw new NeverOpenError("the response term does not run out within ten years");
  }
}
