// The office-hours capability's public API: schedules, Dutch public holidays, response terms
// and dates in words. Pure; no I/O. The contract is in the README ("Office hours").
export { Schedule, NeverOpenError, type OfficeHours, type ResponseTerm, type Period } from "./schedule.ts";
export { hoursFor, responseTerm, UnknownUnitError, type HoursFor } from "./resolve.ts";
export {
  closedHolidays, dutchHolidays, easterSunday, DEFAULT_SWITCHES,
  type Holiday, type HolidayKey, type HolidaySwitches,
} from "./holidays.ts";
export { dateInWords } from "./words.ts";
export { isoLocal, isTimeZone } from "./zone.ts";
export { formatDay, parseDay, type DayNumber, type Weekday, WEEKDAYS } from "./civil.ts";
