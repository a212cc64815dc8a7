// `npm run bench`: the intake benchmark, then the E2EE benchmark with modest defaults (each in a
// process of its own, one after the other, so that they do not share the cores). Arguments go
// to the intake benchmark, as before; the crypto one takes LOKET_BENCH_CRYPTO_ARGS (default
// "--messages 500 --sessions 0,100,500 --rounds 3"); `npm run bench:crypto` runs it alone.
//   npm run bench [-- --transactions 300 --concurrency 1,4 --rooms 50 --rounds 3]
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const CRYPTO_ARGS = (process.env.LOKET_BENCH_CRYPTO_ARGS ?? "--messages 500 --sessions 0,100,500 --rounds 3").split(/\s+/).filter(Boolean);

function run(script: string, args: string[]): Promise<number> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...args], { stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => { resolve(code ?? (signal ? 1 : 0)); });
  });
}

const intake = await run("./intake.ts", process.argv.slice(2));
if (intake !== 0) process.exit(intake);
process.exit(await run("./crypto.ts", CRYPTO_ARGS));
