// Instants and local wall-clock time in an IANA time zone, on the time-zone data built into
// Node (Intl, ICU). Instants are epoch milliseconds; a local time is a day number plus the
// milliseconds since local midnight on the wall clock.
import type { DayNumber } from "./civil.ts";

const MS_PER_DAY = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
      hour: "numeric", minute: "numeric", second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isTimeZone(name: string): boolean {
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

export interface LocalTime {
  day: DayNumber;
  /** Milliseconds since local midnight, as the wall clock shows them. */
  msOfDay: number;
}

/** The wall-clock time of an instant in a zone. */
export function toLocal(instant: number, timeZone: string): LocalTime {
  const wall = instant + offsetAt(instant, timeZone);
  const day = Math.floor(wall / MS_PER_DAY);
  return { day, msOfDay: wall - day * MS_PER_DAY };
}

/** The offset straight from Intl (a few microseconds). */
function intlOffset(instant: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  const ms = ((instant % 1000) + 1000) % 1000;
  const wall = Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0, ms);
  return wall - instant;
}

// Offsets per zone and UTC day: a day whose first and last millisecond have the same offset has
// it throughout (zones change their offset at most once a day). Days with a change are not cached.
const NO_SINGLE_OFFSET = Number.NaN;
const offsetCache = new Map<string, Map<number, number>>();
const OFFSET_CACHE_LIMIT = 20_000;

/** The zone's offset from UTC at an instant, in milliseconds (+02:00 is 7 200 000). */
export function offsetAt(instant: number, timeZone: string): number {
  let days = offsetCache.get(timeZone);
  if (!days) {
    days = new Map();
    offsetCache.set(timeZone, days);
  }
  const utcDay = Math.floor(instant / MS_PER_DAY);
  let offset = days.get(utcDay);
  if (offset === undefined) {
    if (days.size >= OFFSET_CACHE_LIMIT) days.clear();
    const first = intlOffset(utcDay * MS_PER_DAY, timeZone);
    const last = intlOffset((utcDay + 1) * MS_PER_DAY - 1, timeZone);
    offset = first === last ? first : NO_SINGLE_OFFSET;
    days.set(utcDay, offset);
  }
  return Number.isNaN(offset) ? intlOffset(instant, timeZone) : offset;
}

/**
 * The instant at which the wall clock shows this local time. A time that occurs twice (the
 * hour repeated in autumn) is the earlier one; a time that does not occur (the hour skipped in
 * spring) is the moment the clocks jump (03:00 in Amsterdam). The mapping never goes backwards,
 * so intervals keep their order on the days the clocks change.
 */
export function fromLocal(day: DayNumber, msOfDay: number, timeZone: string): number {
  const wall = day * MS_PER_DAY + msOfDay;
  const before = wall - offsetAt(wall - MS_PER_DAY, timeZone);
  const after = wall - offsetAt(wall + MS_PER_DAY, timeZone);
  const fits = (t: number): boolean => t + offsetAt(t, timeZone) === wall;
  const candidates = [before, after].filter(fits);
  if (candidates.length > 0) return Math.min(...candidates);
  // In a gap: the jump lies in (after, before]; find the first instant on the new offset.
  const newOffset = offsetAt(wall + MS_PER_DAY, timeZone);
  let lo = after;
  let hi = before;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid, timeZone) === newOffset) hi = mid;
    else lo = mid;
  }
  return hi;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/** ISO 8601 with the zone's offset at that instant: 2026-04-07T13:25:00+02:00. */
export function isoLocal(instant: number, timeZone: string): string {
  const offset = offsetAt(instant, timeZone);
  const wall = new Date(instant + offset);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(Math.round(offset / 60_000));
  const date = `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}`;
  const time = `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}`;
  return `${date}T${time}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
