// `loket hours` as an operator runs it: the JSON contract and exit codes. Spawns the real CLI
// with a temporary config (no Synapse, no database).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { REPO_ROOT } from "../harness/paths.ts";

const dir = mkdtempSync(join(tmpdir(), "loket-hours-"));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const config = join(dir, "config.yaml");
writeFileSync(config, YAML.stringify({
  appservice: { as_token: "3c5e7a9b1d2f4e6a", hs_token: "8b0d2f4a6c8e1b3d" },
  municipalities: [{
    id: "utrecht", name: "Gemeente Utrecht", bot_localpart: "gemeente_utrecht",
    office_hours: {
      weekly: { monday: ["08:30-12:00", "13:00-17:00"], tuesday: ["08:30-17:00"], wednesday: ["08:30-17:00"], thursday: ["08:30-17:00"], friday: ["08:30-12:00", "13:00-17:00"] },
      holidays: { good_friday: "open", liberation_day: "lustrum" },
      exceptions: [{ date: "2026-12-24", hours: ["08:30-15:00"], reason: "Kerstavond" }, { date: "2026-04-27", hours: ["10:00-12:00"] }],
    },
    response_term: { working_hours: 4 },
    departments: [{ id: "burgerzaken", name: "Burgerzaken", response_term: { working_days: 2 } }],
  }],
}));

const hours = (...args: string[]) =>
  spawnSync(process.execPath, [join(REPO_ROOT, "bin/loket.js"), "hours", "-c", config, ...args], { encoding: "utf8", env: { ...process.env, LOKET_CONFIG: undefined } });

describe("loket hours --json", { timeout: 30_000 }, () => {
  it("prints one object while open: closes_at, no next opening, the due time, the year's closed holidays", () => {
    const res = hours("--municipality", "utrecht", "--at", "2026-01-16T16:55:00+01:00", "--json");
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    const report = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      open: true, next_opening: null, closes_at: "2026-01-16T17:00:00+01:00", due: "2026-01-19T13:25:00+01:00",
    });
    // Goede Vrijdag switched open, Bevrijdingsdag only in lustrum years, Koningsdag has an exception.
    expect(report.holidays).toEqual([
      { date: "2026-01-01", name: "Nieuwjaarsdag" },
      { date: "2026-04-05", name: "Eerste Paasdag" },
      { date: "2026-04-06", name: "Tweede Paasdag" },
      { date: "2026-05-14", name: "Hemelvaartsdag" },
      { date: "2026-05-24", name: "Eerste Pinksterdag" },
      { date: "2026-05-25", name: "Tweede Pinksterdag" },
      { date: "2026-12-25", name: "Eerste Kerstdag" },
      { date: "2026-12-26", name: "Tweede Kerstdag" },
    ]);
  });

  it("while closed gives the next opening and uses the department's term; --at without offset is local time", () => {
    const res = hours("--municipality", "utrecht", "--department", "burgerzaken", "--at", "2025-05-04T20:00", "--json");
    expect(res.status).toBe(0);
    const report = JSON.parse(res.stdout) as Record<string, unknown>;
    // 5 May 2025 is a lustrum Bevrijdingsdag: closed, so from Tuesday 08:30 two working days on.
    expect(report).toMatchObject({ open: false, closes_at: null, next_opening: "2025-05-06T08:30:00+02:00", due: "2025-05-08T08:30:00+02:00" });
    expect(report.holidays).toContainEqual({ date: "2025-05-05", name: "Bevrijdingsdag" });
  });
});

describe("loket hours errors", { timeout: 30_000 }, () => {
  it("exits 1 naming an unknown municipality, with nothing on standard output", () => {
    const res = hours("--municipality", "amsterdam", "--json");
    expect(res.status).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toContain("unknown municipality 'amsterdam'");
  });

  it("exits 1 on an unknown department, a bad --at and a missing --municipality", () => {
    expect(hours("--municipality", "utrecht", "--department", "parkeren").status).toBe(1);
    const bad = hours("--municipality", "utrecht", "--at", "2026-02-30T10:00");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("--at must be an ISO 8601 date");
    expect(hours().status).toBe(1);
  });

  it("loket config check names the key path of a bad interval and exits 1", () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, YAML.stringify({
      appservice: { as_token: "3c5e7a9b1d2f4e6a", hs_token: "8b0d2f4a6c8e1b3d" },
      municipalities: [{ id: "utrecht", name: "U", bot_localpart: "gemeente_utrecht", office_hours: { weekly: { monday: ["08:30-12:00", "11:00-13:00"] } } }],
    }));
    const res = spawnSync(process.execPath, [join(REPO_ROOT, "bin/loket.js"), "config", "check", "-c", bad], { encoding: "utf8" });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/municipalities(\.0|\[0\])\.office_hours\.weekly\.monday(\.1|\[1\]): '11:00-13:00' overlaps '08:30-12:00'/);
  });
});
