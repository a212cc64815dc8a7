// Dutch public holidays, computed from the rules (dutch-government reference, section 6.3):
// fixed dates, Koningsdag's Sunday rule, and the days that hang on Easter.
import { dayNumber, formatDay, weekdayOf, type DayNumber } from "./civil.ts";

export type GoodFriday = "closed" | "open";
export type LiberationDay = "every_year" | "lustrum" | "open";

export interface HolidaySwitches {
  good_friday: GoodFriday;
  liberation_day: LiberationDay;
}

export const DEFAULT_SWITCHES: HolidaySwitches = { good_friday: "closed", liberation_day: "every_year" };

export type HolidayKey =
  | "new_years_day" | "good_friday" | "easter_sunday" | "easter_monday" | "kings_day"
  | "liberation_day" | "ascension_day" | "whit_sunday" | "whit_monday" | "christmas_day" | "boxing_day";

export interface Holiday {
  key: HolidayKey;
  /** YYYY-MM-DD */
  date: string;
  day: DayNumber;
  /** The Dutch name: Nieuwjaarsdag, Goede Vrijdag, ... */
  name: string;
}

/** Easter Sunday of a Gregorian year (the anonymous Gregorian algorithm, Meeus/Jones/Butcher). */
export function easterSunday(year: number): DayNumber {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return dayNumber(year, month, day);
}

/** Koningsdag: 27 April, or 26 April when the 27th is a Sunday (rule as of 2014). */
function kingsDay(year: number): DayNumber {
  const d = dayNumber(year, 4, 27);
  return weekdayOf(d) === "sunday" ? d - 1 : d;
}

/** Every Dutch public holiday of a year, in date order, whether or not it closes the office. */
export function dutchHolidays(year: number): Holiday[] {
  const easter = easterSunday(year);
  const list: [HolidayKey, string, DayNumber][] = [
    ["new_years_day", "Nieuwjaarsdag", dayNumber(year, 1, 1)],
    ["good_friday", "Goede Vrijdag", easter - 2],
    ["easter_sunday", "Eerste Paasdag", easter],
    ["easter_monday", "Tweede Paasdag", easter + 1],
    ["kings_day", "Koningsdag", kingsDay(year)],
    ["liberation_day", "Bevrijdingsdag", dayNumber(year, 5, 5)],
    ["ascension_day", "Hemelvaartsdag", easter + 39],
    ["whit_sunday", "Eerste Pinksterdag", easter + 49],
    ["whit_monday", "Tweede Pinksterdag", easter + 50],
    ["christmas_day", "Eerste Kerstdag", dayNumber(year, 12, 25)],
    ["boxing_day", "Tweede Kerstdag", dayNumber(year, 12, 26)],
  ];
  return list
    .map(([key, name, day]) => ({ key, name, day, date: formatDay(day) }))
    .sort((x, y) => x.day - y.day);
}

/** Whether a holiday closes the office under the switches. */
export function closesOffice(holiday: Holiday, year: number, switches: HolidaySwitches): boolean {
  if (holiday.key === "good_friday") return switches.good_friday === "closed";
  if (holiday.key === "liberation_day") {
    return switches.liberation_day === "every_year" || (switches.liberation_day === "lustrum" && year % 5 === 0);
  }
  return true;
}

/** The holidays of a year that close the office under the switches, in date order. */
export function closedHolidays(year: number, switches: HolidaySwitches = DEFAULT_SWITCHES): Holiday[] {
  return dutchHolidays(year).filter((h) => closesOffice(h, year, switches));
}
