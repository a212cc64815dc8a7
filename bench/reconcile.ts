// Start-up reconciliation at national scale: 342 municipalities (every Dutch municipality), one
// department with one staff member each, on a real Synapse. Times `start()` until every bot and
// room is reconciled, on a first start (everything created: 3 rooms per municipality) and on a
// second start (nothing to do), and samples this process's memory meanwhile (Loket runs
// in-process; Synapse is a separate process and not counted).
//   npm run bench:reconcile [-- --municipalities 342]
import { parseArgs } from "node:util";
import { startStack, SERVER_NAME } from "../tests/harness/stack.ts";

const { values } = parseArgs({ options: { municipalities: { type: "string", default: "342" } } });
const N = Number(values.municipalities);
const municipalities = Array.from({ length: N }, (_, i) => ({
  id: `gemeente-${i + 1}`,
  name: `Gemeente ${i + 1}`,
  bot_localpart: `gemeente_${i + 1}`,
  departments: [{ id: "burgerzaken", name: "Burgerzaken", staff: [`@medewerker${i + 1}:${SERVER_NAME}`] }],
}));

/** Peak RSS and heap of this process while fn runs, sampled every 20 ms. */
async function measured(fn: () => Promise<number>): Promise<{ seconds: number; startSeconds: number; peakRssMiB: number; peakHeapMiB: number }> {
  let peakRss = 0;
  let peakHeap = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 20);
  const started = performance.now();
  let listening: number;
  try {
    listening = await fn();
  } finally {
    clearInterval(timer);
  }
  sample();
  const mib = (b: number): number => Math.round(b / 1024 / 1024);
  const s = (ms: number): number => Math.round(ms / 100) / 10;
  return { seconds: s(performance.now() - started), startSeconds: s(listening - started), peakRssMiB: mib(peakRss), peakHeapMiB: mib(peakHeap) };
}

const stack = await startStack({ municipalities, deferLoket: true });
let first;
let second;
try {
  /** Starts Loket; returns when start() resolved (migrated, listening), resolves once reconciled. */
  const startAndReconcile = async (): Promise<number> => {
    const app = await stack.restartLoket();
    const listening = performance.now();
    await app.started();
    return listening;
  };
  first = await measured(startAndReconcile);
  const rooms = await stack.loket.database.query<{ n: number }>("SELECT count(*)::int AS n FROM managed_rooms");
  if (rooms[0]?.n !== N * 3) throw new Error(`expected ${N * 3} managed rooms, found ${rooms[0]?.n ?? 0}`);
  second = await measured(startAndReconcile);
} finally {
  await stack.stop();
}
const store = process.env.DATABASE_URL ? "PostgreSQL (Loket and Synapse)" : "PGlite (Loket), SQLite (Synapse)";
console.log(`\nReconciling ${N} municipalities (${N * 3} rooms), ${store}, Node ${process.version}\n`);
console.log("| start | s until listening (store open, migrated) | s until reconciled | peak RSS (MiB) | peak heap (MiB) |");
console.log("| --- | ---: | ---: | ---: | ---: |");
console.log(`| first (creates everything) | ${first.startSeconds} | ${first.seconds} | ${first.peakRssMiB} | ${first.peakHeapMiB} |`);
console.log(`| second (nothing to do) | ${second.startSeconds} | ${second.seconds} | ${second.peakRssMiB} | ${second.peakHeapMiB} |\n`);
console.log(JSON.stringify({ bench: "reconcile", municipalities: N, rooms: N * 3, store, first, second }));
process.exit(0);
