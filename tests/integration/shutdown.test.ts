// Stopping Loket: new transactions are refused with 503 (Synapse retries them later), requests
// in flight are answered, and idle keep-alive connections do not hold the stop up.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { start } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";

const dir = mkdtempSync(join(tmpdir(), "loket-stop-"));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe("stopping", () => {
  it("refuses a transaction that arrives while stopping and closes keep-alive connections", async () => {
    const hsToken = randomBytes(16).toString("hex");
    const { config } = parseConfig({
      homeserver: { url: "http://127.0.0.1:9", domain: "stop.test" },
      appservice: { port: 0, as_token: randomBytes(16).toString("hex"), hs_token: hsToken },
      database: { data_dir: join(dir, "pglite") },
    });
    const app = await start(config, { logger: pino({ level: "silent" }) });
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });

    // An idle keep-alive connection, as Synapse keeps one.
    const idle = await new Promise<number>((resolve) => {
      request({ host: "127.0.0.1", port: app.port, path: "/live", agent }, (res) => { res.resume(); res.on("end", () => { resolve(res.statusCode ?? 0); }); }).end();
    });
    expect(idle).toBe(200);
    const sockets = Object.values(agent.freeSockets).flat();
    expect(sockets).toHaveLength(1);
    const idleClosed = new Promise<void>((resolve) => sockets[0]?.once("close", () => { resolve(); }));

    // A transaction whose body is still arriving when the stop begins. `Expect: 100-continue`
    // tells us when the server has taken the request; only then does the stop begin.
    const body = JSON.stringify({ events: [] });
    let stopped: Promise<void> | undefined;
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({
        host: "127.0.0.1", port: app.port, method: "PUT", path: "/_matrix/app/v1/transactions/late", agent: false,
        headers: { authorization: `Bearer ${hsToken}`, "content-length": body.length, expect: "100-continue" },
      }, (r) => {
        let text = "";
        r.on("data", (c: Buffer) => { text += c.toString(); });
        r.on("end", () => { resolve({ status: r.statusCode ?? 0, body: text }); });
      });
      req.on("error", reject);
      req.on("continue", () => {
        stopped = app.stop();
        req.end(body);
      });
      req.flushHeaders();
    });
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ errcode: "M_UNKNOWN" });
    await stopped;
    await idleClosed;
    agent.destroy();
  });
});
