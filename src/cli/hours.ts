// `loket hours`: what a schedule says at a moment: open or closed, the next opening, the closing
// time, when a message received then is due, and the closed public holidays of that year.
// Operators use it to check a schedule, tests to check the arithmetic. Exit 0 ok, 1 bad input.
import { parseArgs } from "node:util";
import { ConfigError, defaultConfigPath, loadConfigFile } from "../config/load.ts";
import { civilOf, parseDay } from "../office-hours/civil.ts";
import { dateInWords, hoursFor, isoLocal, UnknownUnitError, type ResponseTerm, type Schedule } from "../office-hours/index.ts";
import { fromLocal, toLocal } from "../office-hours/zone.ts";
import type { Language } from "../i18n/index.ts";

export const HOURS_USAGE = `Usage: loket hours -c FILE --municipality ID [--department ID] [--at ISO-8601] [--json]

  --at     the moment to look at (default now), for example 2026-04-02T16:55:00+02:00;
           without an offset it is local time in the schedule's time zone
  --json   print one JSON object: open, next_opening, closes_at, due, holidays`;

class InputError extends Error {}

const AT = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;

/** An ISO 8601 date-time; without an offset, local wall-clock time in the time zone. */
export function parseAt(text: string, timeZone: string): Date {
  const m = AT.exec(text);
  const day = m ? parseDay(m[1] ?? "") : undefined;
  const [h, min, s] = [Number(m?.[2]), Number(m?.[3]), Number(m?.[4] ?? 0)];
  if (!m || day === undefined || h > 23 || min > 59 || s > 59) {
    throw new InputError(`--at must be an ISO 8601 date and time like 2026-04-02T16:55 or 2026-04-02T16:55:00+02:00, not '${text}'`);
  }
  if (m[6] !== undefined) return new Date(text);
  const ms = Math.round(Number(m[5] ?? 0) * 1000);
  return new Date(fromLocal(day, ((h * 60 + min) * 60 + s) * 1000 + ms, timeZone));
}

export interface HoursReport {
  open: boolean;
  next_opening: string | null;
  closes_at: string | null;
  due: string;
  holidays: { date: string; name: string }[];
  at: string;
  timezone: string;
  term: ResponseTerm;
}

export function hoursReport(schedule: Schedule, term: ResponseTerm, at: Date): HoursReport {
  const iso = (d: Date | null): string | null => (d === null ? null : isoLocal(d.getTime(), schedule.timezone));
  const { year } = civilOf(toLocal(at.getTime(), schedule.timezone).day);
  return {
    open: schedule.isOpen(at),
    next_opening: iso(schedule.nextOpening(at)),
    closes_at: iso(schedule.closesAt(at)),
    due: isoLocal(schedule.due(at, term).getTime(), schedule.timezone),
    holidays: schedule.holidays(year),
    at: isoLocal(at.getTime(), schedule.timezone),
    timezone: schedule.timezone,
    term,
  };
}

function describeTerm(term: ResponseTerm): string {
  return "working_hours" in term ? `${term.working_hours} working hours` : `${term.working_days} working days`;
}

function renderText(title: string, r: HoursReport, lang: Language): string {
  const words = (iso: string): string => `${iso}  (${dateInWords(new Date(iso), r.timezone, lang)})`;
  const lines = [
    `${title} (${r.timezone})`,
    `at            ${words(r.at)}`,
    `open          ${r.closes_at === null ? "no" : `yes, until ${words(r.closes_at)}`}`,
    `next opening  ${r.next_opening === null ? "-" : words(r.next_opening)}`,
    `due           ${words(r.due)}, ${describeTerm(r.term)}`,
    `closed public holidays ${r.at.slice(0, 4)}:`,
    ...r.holidays.map((h) => `  ${h.date}  ${h.name}`),
  ];
  return lines.join("\n");
}

export function runHours(argv: string[]): number {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        config: { type: "string", short: "c" },
        municipality: { type: "string" },
        department: { type: "string" },
        at: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(HOURS_USAGE);
      return 0;
    }
    if (values.municipality === undefined) throw new InputError("--municipality is required");
    const { config, warnings } = loadConfigFile(values.config ?? defaultConfigPath());
    for (const w of warnings) console.warn(`warning: ${w}`);
    const { schedule, term } = hoursFor(config, values.municipality, values.department);
    const at = values.at === undefined ? new Date() : parseAt(values.at, schedule.timezone);
    const report = hoursReport(schedule, term, at);
    if (values.json) {
      console.log(JSON.stringify(report));
    } else {
      const m = config.municipalities.find((x) => x.id === values.municipality);
      const d = m?.departments.find((x) => x.id === values.department);
      console.log(renderText([m?.name, d?.name].filter(Boolean).join(" / "), report, m?.language ?? "nl"));
    }
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) console.error(err.message);
    else if (err instanceof InputError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) console.error(`${(err as Error).message}\n\n${HOURS_USAGE}`);
    else if (err instanceof UnknownUnitError) console.error(err.message);
    else throw err;
    return 1;
  }
}
