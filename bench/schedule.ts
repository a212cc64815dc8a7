// Schedule benchmark: office-hours computations per second (isOpen, nextOpening, closesAt, due
// in working hours and working days) at random moments of one year, on one Schedule (its day
// cache warm, as in a running Loket) and on a fresh Schedule per call (cold: its day cache
// empty; the module's per-day time-zone offset cache is shared and stays warm).
//   npm run bench:schedule [-- --calls 20000 --rounds 3]
import { parseArgs } from "node:util";
import { Schedule, type OfficeHours } from "../src/office-hours/index.ts";

const { values } = parseArgs({
  options: { calls: { type: "string", default: "20000" }, rounds: { type: "string", default: "3" } },
});
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);

const spec: OfficeHours = {
  timezone: "Europe/Amsterdam",
  weekly: {
    monday: ["08:30-12:00", "13:00-17:00"], tuesday: ["08:30-17:00"], wednesday: ["08:30-12:00", "13:00-17:00"],
    thursday: ["08:30-17:00", "18:00-20:00"], friday: ["08:30-12:00"],
  },
  holidays: { good_friday: "closed", liberation_day: "every_year" },
  exceptions: [
    { date: "2026-12-24", hours: ["08:30-15:00"], reason: "Kerstavond" },
    { date: "2026-12-31", hours: [], reason: "Oudejaarsdag" },
  ],
};

// Deterministic pseudo-random moments in 2026 (a linear congruential generator).
let seed = 12345;
const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const start = Date.parse("2026-01-01T00:00:00+01:00");
const year = 365 * 86_400_000;
const moments = Array.from({ length: CALLS }, () => new Date(start + Math.floor(random() * year)));

type Op = (s: Schedule, at: Date) => unknown;
const OPS: [string, Op][] = [
  ["isOpen", (s, at) => s.isOpen(at)],
  ["nextOpening", (s, at) => s.nextOpening(at)],
  ["closesAt", (s, at) => s.closesAt(at)],
  ["due, 4 working hours", (s, at) => s.due(at, { working_hours: 4 })],
  ["due, 2 working days", (s, at) => s.due(at, { working_days: 2 })],
  ["due, 40 working hours", (s, at) => s.due(at, { working_hours: 40 })],
];

let sink = 0;
function perSecond(op: Op, cold: boolean): number {
  const warm = new Schedule(spec);
  const calls = cold ? Math.ceil(CALLS / 10) : CALLS;
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    const s = cold ? new Schedule(spec) : warm;
    if (op(s, moments[i] ?? new Date(start))) sink++;
  }
  return Math.round(calls / ((performance.now() - t0) / 1000));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

// One pass of everything first, so that the JIT has compiled the code before the measuring.
for (const [, op] of OPS) perSecond(op, false);

const results: Record<string, { warm: number; cold: number }> = {};
for (const [name, op] of OPS) {
  const warm: number[] = [];
  const cold: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    warm.push(perSecond(op, false));
    cold.push(perSecond(op, true));
  }
  results[name] = { warm: median(warm), cold: median(cold) };
}

console.log(`\nSchedule computations per second (${CALLS} random moments in 2026, median of ${ROUNDS} rounds)\n`);
console.log("| computation | one Schedule (warm) /s | fresh Schedule per call (cold) /s |");
console.log("| --- | ---: | ---: |");
for (const [name, r] of Object.entries(results)) console.log(`| ${name} | ${r.warm} | ${r.cold} |`);
console.log(`\n${JSON.stringify({ bench: "schedule", calls: CALLS, rounds: ROUNDS, node: process.version, results, sink: sink > 0 })}`);
