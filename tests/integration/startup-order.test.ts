// Loket listens before it sends anything: capability start-ups (the bots' display names) make
// the homeserver push transactions, and Synapse 1.163 lost one it created while finishing its
// recovery from an unreachable appservice. The order is observed at the socket level, where
// every homeserver client ends up, with no homeserver at all (the calls fail and are retried).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { start } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import { freePort } from "../../src/devserver/ports.ts";
import { eventually } from "../harness/wait.ts";

const dir = mkdtempSync(join(tmpdir(), "loket-order-"));
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe("start-up", () => {
  it("listens before the capabilities' start-ups call the homeserver", async () => {
    const [homeserverPort, loketPort] = [await freePort(), await freePort()];
    const order: string[] = [];
    const { listen } = Server.prototype as unknown as { listen: (this: Server, ...args: unknown[]) => Server };
    vi.spyOn(Server.prototype, "listen").mockImplementation(function (this: Server, ...args: unknown[]) {
      if (args[0] === loketPort) order.push("listen");
      return listen.apply(this, args);
    });
    const { connect } = Socket.prototype as unknown as { connect: (this: Socket, ...args: unknown[]) => Socket };
    vi.spyOn(Socket.prototype, "connect").mockImplementation(function (this: Socket, ...args: unknown[]) {
      // net.connect() passes its normalised arguments as one array.
      const [first] = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
      const port = typeof first === "object" && first !== null ? (first as { port?: unknown }).port : first;
      if (Number(port) === homeserverPort) order.push("homeserver");
      return connect.apply(this, args);
    });
    const { config } = parseConfig({
      homeserver: { url: `http://127.0.0.1:${homeserverPort}`, domain: "order.test" },
      appservice: { port: loketPort, as_token: randomBytes(16).toString("hex"), hs_token: randomBytes(16).toString("hex") },
      database: { data_dir: join(dir, "pglite") },
      municipalities: [{ id: "test", name: "Gemeente Volgorde", bot_localpart: "gemeente_volgorde" }],
    });
    const app = await start(config, { logger: pino({ level: "silent" }), retryMs: 10_000 });
    try {
      await eventually(() => Promise.resolve(order.includes("homeserver") ? true : undefined), "a call to the homeserver");
      expect(order[0]).toBe("listen");
    } finally {
      await app.stop();
    }
  });
});
