// Start-up of `loket start` on a fresh embedded PGlite store: time from spawn to "database ready"
// and to "Loket listening", the event loop's worst lag and the resident memory that /metrics
// reports once Loket listens. The homeserver is unreachable (Loket does not need it to start).
//   node bench/startup.ts [ROUNDS] [REPO_ROOT]      (npm run bench:startup)
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const rounds = Number(process.argv[2] ?? 3);
const repo = resolve(process.argv[3] ?? fileURLToPath(new URL("../", import.meta.url)));

interface Round { databaseReadyMs: number; listeningMs: number; lagMaxS: number; rssMB: number }

async function once(): Promise<Round> {
  const dir = mkdtempSync(join(tmpdir(), "loket-bench-startup-"));
  try {
    const config = join(dir, "config.yaml");
    writeFileSync(config, JSON.stringify({
      homeserver: { url: "http://127.0.0.1:9", domain: "bench.test" },
      appservice: { port: 0, as_token: "3c5e7a9b1d2f4e6a", hs_token: "8b0d2f4a6c8e1b3d" },
      database: { data_dir: join(dir, "pglite") },
      municipalities: [{ id: "bench", name: "Gemeente Bench", bot_localpart: "gemeente_bench" }],
    }));
    const started = performance.now();
    const child = spawn(process.execPath, [join(repo, "bin/loket.js"), "start", "-c", config], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    let databaseReadyMs = NaN;
    const port = await new Promise<number>((done, fail) => {
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (Number.isNaN(databaseReadyMs) && out.includes('"msg":"database ready"')) databaseReadyMs = performance.now() - started;
        const m = /"port":(\d+),"address".*"msg":"Loket listening"/.exec(out);
        if (m?.[1]) done(Number(m[1]));
      });
      child.once("exit", (code) => { fail(new Error(`loket exited with ${String(code)}:\n${out}`)); });
    });
    const listeningMs = performance.now() - started;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(metrics)?.[1] ?? NaN);
    const exited = new Promise((done) => child.once("exit", done));
    child.kill("SIGTERM");
    await exited;
    return { databaseReadyMs, listeningMs, lagMaxS: value("loket_nodejs_eventloop_lag_max_seconds"), rssMB: value("loket_process_resident_memory_bytes") / 2 ** 20 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Round[] = [];
for (let i = 0; i < rounds; i++) results.push(await once());
const median = (key: keyof Round): number => {
  const sorted = results.map((r) => r[key]).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
console.log(`fresh PGlite store, ${rounds} rounds, medians (${repo})`);
console.log(`  to "database ready"   ${Math.round(median("databaseReadyMs"))} ms`);
console.log(`  to "Loket listening"  ${Math.round(median("listeningMs"))} ms`);
console.log(`  event loop lag max    ${median("lagMaxS").toFixed(2)} s`);
console.log(`  resident memory       ${Math.round(median("rssMB"))} MiB`);
console.log(JSON.stringify({ bench: "startup", rounds: results }));
