// Stopping Loket, and Loket under pressure, on real PostgreSQL: a transaction being stored when
// the stop begins is answered and kept; one that arrives while stopping is refused with 503
// (Synapse retries it later); too much work waiting makes Loket refuse with 503 too; and a
// homeserver that never answers holds neither the room for ever nor the stop.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { start, type LoketApp, type StartOptions } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createTestDatabase, DEFAULT_SERVER_URL, postgresServerUrl, type TestDatabase } from "../harness/postgres.ts";
import { eventually } from "../harness/wait.ts";

const dir = mkdtempSync(join(tmpdir(), "loket-stop-"));
const hsToken = randomBytes(16).toString("hex");
let db: TestDatabase;
let admin: pg.Client;
// A "homeserver" that accepts connections and never answers.
const held = new Set<Socket>();
let silent: Server;
let silentPort = 0;

beforeAll(async () => {
  db = await createTestDatabase(postgresServerUrl() ?? DEFAULT_SERVER_URL);
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  silent = createServer((s) => { held.add(s); s.on("close", () => held.delete(s)); });
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of held) s.destroy();
  silent.close();
  await admin.end();
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

function boot(opts: StartOptions = {}): Promise<LoketApp> {
  const { config } = parseConfig({
    homeserver: { url: `http://127.0.0.1:${silentPort}`, domain: "stop.test" },
    appservice: { port: 0, as_token: randomBytes(16).toString("hex"), hs_token: hsToken },
    database: { url: db.url },
    municipalities: [{ id: "test", name: "Gemeente Stil", bot_localpart: "gemeente_stil" }],
  });
  return start(config, { logger: pino({ level: "silent" }), ...opts });
}

interface Answer { status: number; body: string; connection: string | undefined }

interface Put {
  answer: Promise<Answer>;
  /** With `expect: 100-continue`: resolves when the server has taken the request's headers. */
  continued: Promise<void>;
  /** With `expect: 100-continue`: sends the body. */
  finish(): void;
}

function put(app: LoketApp, txnId: string, body: string, agent: Agent | false, extra: Record<string, string> = {}): Put {
  let continued!: () => void;
  let finish: () => void = () => undefined;
  const continuedP = new Promise<void>((r) => { continued = r; });
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: app.port, method: "PUT", path: `/_matrix/app/v1/transactions/${txnId}`, agent,
      headers: { authorization: `Bearer ${hsToken}`, "content-length": Buffer.byteLength(body), ...extra } }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => { text += c.toString(); });
      res.on("end", () => { resolve({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection }); });
    });
    req.on("error", reject);
    finish = () => { req.end(body); };
    req.on("continue", () => { continued(); });
    if (extra.expect === undefined) req.end(body);
    else req.flushHeaders();
  });
  return { answer, continued: continuedP, finish: () => { finish(); } };
}

// An event of a room the bot is not in: stored, and nothing for the silent homeserver. (A
// transaction without events has nothing to store and is acknowledged at once.)
const message = (id: string) => JSON.stringify({ events: [{
  event_id: `$${id}`, room_id: "!elsewhere:stop.test", type: "m.room.message", sender: "@burger:stop.test",
  content: { msgtype: "m.text", body: "hoi" },
}] });

const invite = (id: string) => JSON.stringify({ events: [{
  event_id: `$${id}`, room_id: `!${id}:stop.test`, type: "m.room.member", sender: "@burger:stop.test",
  state_key: "@gemeente_stil:stop.test", content: { membership: "invite", is_direct: true },
}] });

describe("stopping", () => {
  it("answers a transaction that is being stored when the stop begins, then closes its keep-alive connection", async () => {
    const app = await boot();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // Hold the table, so that the transaction is in flight (waiting on the lock) at the stop.
      await admin.query("BEGIN");
      await admin.query("LOCK TABLE inbox_transactions IN EXCLUSIVE MODE");
      const { answer } = put(app, "inflight", message("inflight"), agent);
      await eventually(async () => {
        // pg_stat_activity is a snapshot per transaction: clear it on every look.
        await admin.query("SELECT pg_stat_clear_snapshot()");
        const rows = await admin.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO inbox_transactions%'", [db.name]);
        return rows.rowCount ? true : undefined;
      }, "the INSERT to wait on the lock");
      const socket = Object.values(agent.sockets).flat()[0];
      if (!socket) throw new Error("the request has no socket");
      const socketClosed = new Promise<void>((r) => socket.once("close", () => { r(); }));
      const stopped = app.stop();
      await admin.query("COMMIT");
      const a = await answer;
      expect(a.status).toBe(200);
      // The answer ends the keep-alive connection, so the stop need not wait for it to time out.
      expect(a.connection).toBe("close");
      await stopped;
      await socketClosed;
      const rows = await admin.query("SELECT txn_id FROM inbox_transactions WHERE txn_id = 'inflight'");
      expect(rows.rowCount).toBe(1);
    } finally {
      await admin.query("ROLLBACK").catch(() => undefined);
      agent.destroy();
      await app.stop();
    }
  });

  it("refuses a transaction whose body arrives after the stop began", async () => {
    const app = await boot();
    try {
      // `Expect: 100-continue` says when the server has the request; only then does the stop begin.
      const late = put(app, "late", message("late"), false, { expect: "100-continue" });
      await late.continued;
      const stopped = app.stop();
      late.finish();
      const a = await late.answer;
      expect(a.status).toBe(503);
      expect(JSON.parse(a.body)).toMatchObject({ errcode: "M_UNKNOWN", error: "shutting down; retry later" });
      await stopped;
    } finally {
      await app.stop();
    }
  });
});

describe("under pressure", () => {
  // The time limit is the proof for the second half: without cutting the call short, the stop
  // would wait for matrix-js-sdk's own 30 s request timeout.
  it("refuses new transactions while too much waits, and a stop cuts the hanging homeserver call short", { timeout: 20_000 }, async () => {
    // What earlier tests left pending would be recovered first (and hold the one-event backlog).
    await admin.query("UPDATE inbox_transactions SET processed_at = now() WHERE processed_at IS NULL");
    const app = await boot({ maxPendingEvents: 1 });
    const agent = new Agent({ keepAlive: false });
    try {
      // The bot's join hangs on the silent homeserver: the invite stays pending...
      const first = await put(app, "p1", invite("p1"), agent).answer;
      expect(first.status, first.body).toBe(200);
      await eventually(() => Promise.resolve(held.size > 0 ? true : undefined), "the join to reach the homeserver");
      // ...so the next transaction is refused, and Synapse would retry it later.
      const busy = await put(app, "p2", invite("p2"), agent).answer;
      expect(busy.status).toBe(503);
      expect(JSON.parse(busy.body)).toMatchObject({ errcode: "M_UNKNOWN", error: "busy; retry later" });
      // The stop does not wait for the homeserver's answer (30 s): it cuts the call short, and
      // the invite stays pending for the next start.
      await app.stop();
      const rows = await admin.query("SELECT txn_id, processed_at FROM inbox_transactions WHERE txn_id IN ('p1', 'p2')");
      expect(rows.rows).toEqual([{ txn_id: "p1", processed_at: null }]);
      const failures = await admin.query("SELECT 1 FROM inbox_failures");
      expect(failures.rowCount).toBe(0);
    } finally {
      agent.destroy();
      await app.stop();
    }
  });
});
