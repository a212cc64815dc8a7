// A homeserver that accepts connections and never answers, with 10,000 citizens' invites waiting
// in 10,000 rooms: Loket keeps at most homeserver.max_concurrent_requests connections open, its
// memory stays bounded, and it stops at once (the request timeout is far longer than the test).
// No Synapse here on purpose: the fault is the homeserver not answering at all.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { start } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createTestDatabase, postgresServerUrl, type TestDatabase } from "../harness/postgres.ts";
import { TEST_MUNICIPALITY } from "../harness/stack.ts";
import { eventually, metricValue } from "../harness/wait.ts";

const ROOMS = 10_000;
const PER_TXN = 100;
const LIMIT = 8;

const dir = mkdtempSync(join(tmpdir(), "loket-silent-"));
let db: TestDatabase | undefined;
afterAll(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function silentServer(): Promise<{ server: Server; port: number; open: () => number; most: () => number }> {
  const sockets = new Set<Socket>();
  let most = 0;
  const server = createServer((s) => {
    s.resume(); // read (and ignore) what arrives, so that a close by Loket is seen
    sockets.add(s);
    most = Math.max(most, sockets.size);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port, open: () => sockets.size, most: () => most };
}

const invite = (i: number, bot: string) => ({
  event_id: `$invite${i}`, room_id: `!room${i}:loket.test`, type: "m.room.member", sender: `@burger${i}:loket.test`,
  state_key: bot, origin_server_ts: Date.now(), content: { membership: "invite", is_direct: true },
  unsigned: { invite_room_state: [{ type: "m.room.join_rules", state_key: "", content: { join_rule: "invite" } }] },
});

describe("a homeserver that never answers", () => {
  it("holds sockets at the limit and memory bounded with 10,000 rooms waiting, and the stop is immediate", async () => {
    const silent = await silentServer();
    const serverUrl = postgresServerUrl();
    if (serverUrl !== undefined) db = await createTestDatabase(serverUrl);
    const hsToken = randomBytes(16).toString("hex");
    const { config } = parseConfig({
      homeserver: { url: `http://127.0.0.1:${silent.port}`, domain: "loket.test", max_concurrent_requests: LIMIT, request_timeout_seconds: 600 },
      appservice: { port: 0, as_token: randomBytes(16).toString("hex"), hs_token: hsToken },
      database: { url: db?.url ?? "", data_dir: join(dir, "pglite") },
      municipalities: [TEST_MUNICIPALITY],
      logging: { level: "warn", file: join(dir, "loket.log") },
    });
    const loket = await start(config, { logger: pino({ level: "warn" }, pino.destination({ dest: config.logging.file, sync: true })) });
    const bot = `@${TEST_MUNICIPALITY.bot_localpart}:loket.test`;
    const rssBefore = process.memoryUsage().rss;
    for (let t = 0; t < ROOMS / PER_TXN; t++) {
      const events = Array.from({ length: PER_TXN }, (_, k) => invite(t * PER_TXN + k, bot));
      const res = await fetch(`${loket.url}/_matrix/app/v1/transactions/${t}`, {
        method: "PUT", headers: { authorization: `Bearer ${hsToken}`, "content-type": "application/json" }, body: JSON.stringify({ events }),
      });
      expect(res.status).toBe(200);
    }
    const metrics = async (): Promise<string> => (await fetch(`${loket.url}/metrics`)).text();
    // Every room's first call is under way or waiting at the gate.
    const text = await eventually(async () => {
      const m = await metrics();
      const total = metricValue(m, "loket_homeserver_requests_in_flight") + metricValue(m, "loket_homeserver_requests_waiting");
      return total >= ROOMS ? m : undefined;
    }, "every room waiting for the homeserver", 50_000);
    expect(metricValue(text, "loket_homeserver_requests_in_flight")).toBe(LIMIT);
    expect(silent.most()).toBeLessThanOrEqual(LIMIT);
    expect(silent.open()).toBe(LIMIT);
    const grownMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    console.log(`[unresponsive] ${ROOMS} rooms waiting: ${silent.most()} sockets at most, rss +${grownMb.toFixed(0)} MB`);
    expect(grownMb).toBeLessThan(300);

    // The requests would time out only after 600 s; the test's own timeout is 60 s.
    await loket.stop();
    await eventually(() => Promise.resolve(silent.open() === 0 ? true : undefined), "every socket to the homeserver closed", 5_000);
    const pending = await loket.database.query<{ n: number }>("SELECT count(*)::int AS n FROM inbox_transactions WHERE processed_at IS NULL").catch(() => undefined);
    expect(pending).toBeUndefined(); // the database is closed after the stop
    await new Promise<void>((r) => silent.server.close(() => { r(); }));
  });
});
