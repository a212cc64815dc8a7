// The load generator of the intake benchmarks, in a process of its own, as Synapse is: it sends
// the transaction bodies in a file (a JSON array of strings) to a Loket or a reference server
// with `concurrency` requests in flight, and reports the seconds until all were acknowledged.
// Run by flood() in servers.ts: it answers "ready" once the bodies are read, starts on "go".
import { readFileSync } from "node:fs";

const [baseUrl, file, concurrencyArg, token] = process.argv.slice(2);
if (!baseUrl || !file || !concurrencyArg || !token || !process.send) throw new Error("usage: run by bench/servers.ts flood()");
const bodies = JSON.parse(readFileSync(file, "utf8")) as string[];
const concurrency = Number(concurrencyArg);
const send = process.send.bind(process);

async function run(): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < bodies.length) {
      const i = next++;
      // As Synapse does: a 503 (busy: the backlog is full) is sent again after a pause.
      for (;;) {
        const res = await fetch(`${baseUrl}/_matrix/app/v1/transactions/${i}`, {
          method: "PUT",
          body: bodies[i],
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        });
        if (res.status === 503) {
          await res.arrayBuffer();
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        if (res.status !== 200) throw new Error(`transaction ${i}: HTTP ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - started) / 1000;
}

let startCpu: NodeJS.CpuUsage | undefined;
process.on("message", (msg) => {
  if (msg !== "go") return;
  startCpu = process.cpuUsage();
  run().then(
    (seconds) => {
      const cpu = process.cpuUsage(startCpu);
      send({ seconds, cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
    },
    (err: unknown) => { send({ error: String(err) }, () => process.exit(1)); },
  );
});
send("ready");
