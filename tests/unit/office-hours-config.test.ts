// The office_hours and response_term config blocks: defaults, errors with key paths, and which
// block applies to a department.
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/load.ts";
import { hoursFor, isoLocal, UnknownUnitError } from "../../src/office-hours/index.ts";

const base = { appservice: { as_token: "a".repeat(32), hs_token: "h".repeat(32) } };
const withMunicipality = (extra: Record<string, unknown>) =>
  ({ ...base, municipalities: [{ id: "utrecht", name: "Gemeente Utrecht", bot_localpart: "gemeente_utrecht", ...extra }] });

/** Problems by key path, written as municipalities[0].office_hours.weekly.monday[1]. */
function problemsOf(raw: unknown): Record<string, string> {
  try {
    parseConfig(raw);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return Object.fromEntries(err.problems.map((p) => [p.path.replace(/\.(\d+)(?=\.|$)/g, "[$1]"), p.message]));
  }
  return {};
}

describe("office_hours config", () => {
  it("defaults to weekdays 09:00-17:00 in Europe/Amsterdam, holidays closed, 8 working hours", () => {
    const { config } = parseConfig(withMunicipality({}));
    const m = config.municipalities[0];
    expect(m?.office_hours).toEqual({
      timezone: "Europe/Amsterdam",
      weekly: { monday: ["09:00-17:00"], tuesday: ["09:00-17:00"], wednesday: ["09:00-17:00"], thursday: ["09:00-17:00"], friday: ["09:00-17:00"], saturday: [], sunday: [] },
      holidays: { good_friday: "closed", liberation_day: "every_year" },
      exceptions: [],
    });
    expect(m?.response_term).toEqual({ working_hours: 8 });
  });

  it("names the key path of overlapping, reversed and malformed intervals, unknown weekdays and bad dates", () => {
    const problems = problemsOf(withMunicipality({
      office_hours: {
        timezone: "Europe/Amsterdm",
        weekly: { monday: ["08:30-12:00", "11:00-13:00"], tuesday: ["17:00-08:30"], wednesday: ["8:30-12"], thursday: ["09:00-24:30"], mondag: ["09:00-17:00"] },
        holidays: { good_friday: "sometimes", liberation_day: "lustrum" },
        exceptions: [
          { date: "2026-02-30", hours: [] },
          { date: "24-12-2026", hours: [] },
          { date: "2026-12-24", hours: ["15:00-08:30"] },
          { date: "2026-12-24", hours: [] },
        ],
      },
      response_term: { working_hours: 4, working_days: 2 },
      departments: [{ id: "burgerzaken", name: "Burgerzaken", response_term: { working_days: 1.5 } }],
    }));
    expect(Object.keys(problems).sort()).toEqual([
      "municipalities[0].departments[0].response_term.working_days",
      "municipalities[0].office_hours.exceptions[0].date",
      "municipalities[0].office_hours.exceptions[1].date",
      "municipalities[0].office_hours.exceptions[2].hours[0]",
      "municipalities[0].office_hours.exceptions[3].date",
      "municipalities[0].office_hours.holidays.good_friday",
      "municipalities[0].office_hours.timezone",
      "municipalities[0].office_hours.weekly.mondag",
      "municipalities[0].office_hours.weekly.monday[1]",
      "municipalities[0].office_hours.weekly.thursday[0]",
      "municipalities[0].office_hours.weekly.tuesday[0]",
      "municipalities[0].office_hours.weekly.wednesday[0]",
      "municipalities[0].response_term",
    ]);
    expect(problems["municipalities[0].office_hours.weekly.monday[1]"]).toMatch(/overlaps '08:30-12:00'/);
    expect(problems["municipalities[0].office_hours.weekly.tuesday[0]"]).toMatch(/ends before it starts/);
    expect(problems["municipalities[0].office_hours.weekly.wednesday[0]"]).toMatch(/HH:MM-HH:MM/);
    expect(problems["municipalities[0].office_hours.weekly.mondag"]).toMatch(/unknown weekday 'mondag'/);
    expect(problems["municipalities[0].office_hours.exceptions[0].date"]).toMatch(/not a date/);
    expect(problems["municipalities[0].office_hours.exceptions[3].date"]).toMatch(/duplicate/);
    expect(problems["municipalities[0].response_term"]).toMatch(/either working_hours or working_days/);
  });

  it("refuses a week without opening hours, and accepts whole days and touching intervals", () => {
    expect(problemsOf(withMunicipality({ office_hours: { weekly: { saturday: [] } } }))).toEqual({
      "municipalities[0].office_hours.weekly": expect.stringMatching(/no opening hours/) as string,
    });
    expect(problemsOf(withMunicipality({ office_hours: { weekly: { monday: ["00:00-12:00", "12:00-24:00"], sunday: ["00:00-24:00"] } } }))).toEqual({});
  });
});

describe("hoursFor", () => {
  const { config } = parseConfig(withMunicipality({
    office_hours: { weekly: { monday: ["08:30-17:00"], tuesday: ["08:30-17:00"] } },
    response_term: { working_days: 1 },
    departments: [
      { id: "burgerzaken", name: "Burgerzaken", office_hours: { weekly: { monday: ["10:00-12:00"] } } },
      { id: "belastingen", name: "Belastingen", response_term: { working_hours: 1 } },
    ],
  }));
  const monday = new Date("2026-01-19T09:00:00+01:00");
  const iso = (d: Date | null): string | null => (d === null ? null : isoLocal(d.getTime(), "Europe/Amsterdam"));

  it("uses the municipality's block, a department's office_hours as a whole, and a department's term", () => {
    const town = hoursFor(config, "utrecht");
    expect(town.schedule.isOpen(monday)).toBe(true);
    expect(town.term).toEqual({ working_days: 1 });
    const desk = hoursFor(config, "utrecht", "burgerzaken");
    expect(desk.schedule.isOpen(monday)).toBe(false);
    // Replaced as a whole: Tuesday is not inherited from the municipality.
    expect(iso(desk.schedule.nextOpening(new Date("2026-01-19T12:00:00+01:00")))).toBe("2026-01-26T10:00:00+01:00");
    expect(desk.term).toEqual({ working_days: 1 });
    const tax = hoursFor(config, "utrecht", "belastingen");
    expect(tax.term).toEqual({ working_hours: 1 });
    expect(iso(tax.schedule.due(monday, tax.term))).toBe("2026-01-19T10:00:00+01:00");
  });

  it("names an unknown municipality or department", () => {
    expect(() => hoursFor(config, "amsterdam")).toThrow(new UnknownUnitError("unknown municipality 'amsterdam'"));
    expect(() => hoursFor(config, "utrecht", "parkeren")).toThrow(/no department 'parkeren'/);
  });
});

describe("queue config", () => {
  it("names a malformed coordinator by its key path, and defaults the quiet period and the per-person maximum", () => {
    const problems = problemsOf(withMunicipality({ coordinator: "teamleider", departments: [{ id: "bz", name: "Burgerzaken", coordinator: "@x" }] }));
    expect(Object.keys(problems).sort()).toEqual(["municipalities[0].coordinator", "municipalities[0].departments[0].coordinator"]);
    const { config } = parseConfig(withMunicipality({ coordinator: "@teamleider:utrecht.nl" }));
    expect(config.conversations.quiet_period_hours).toBe(8);
    expect(config.conversations.max_open_per_staff).toBe(5);
  });
});
