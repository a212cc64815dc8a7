// The start-up ping: tried again after a failure (Synapse's 502 AlreadyCalled race), and its log
// line names what failed: Loket reaching the homeserver, or the homeserver reaching Loket.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { HomeserverGate } from "../../src/matrix/gate.ts";
import { RoomEncryption } from "../../src/matrix/room-encryption.ts";
import { Homeserver } from "../../src/matrix/client.ts";
import { pingHomeserver } from "../../src/matrix/ping.ts";
import { freePort } from "../../src/devserver/ports.ts";

interface Line { level: number; msg: string }

function capture(): { log: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const log = pino({ level: "debug" }, { write: (s: string) => { lines.push(JSON.parse(s) as Line); } });
  return { log, lines };
}

/** A stand-in homeserver whose ping endpoint gives these answers in turn. */
async function fakeHomeserver(answers: { status: number; body: object }[]): Promise<{ url: string; pings: () => number; server: Server }> {
  let pings = 0;
  const server = createServer((req, res) => {
    if (req.method === "POST" && req.url?.startsWith("/_matrix/client/v1/appservice/loket/ping")) {
      const answer = answers[Math.min(pings, answers.length - 1)] ?? { status: 500, body: {} };
      pings++;
      res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pings: () => pings, server };
}

const servers: Server[] = [];
afterEach(() => { for (const s of servers.splice(0)) s.close(); });

async function run(url: string, attempts = 4) {
  const { log, lines } = capture();
  const gate = new HomeserverGate({ maxConcurrent: 4, requestTimeoutMs: 10_000, firstPauseMs: 1, maxPauseMs: 2 });
  const homeserver = new Homeserver({ url, asToken: "as-token-for-tests", log, gate, db: undefined as never, rooms: new RoomEncryption() });
  const pings: string[] = [];
  const ok = await pingHomeserver({
    ping: () => homeserver.ping("loket"),
    homeserverUrl: url,
    publicUrl: "http://loket.internal:9993",
    metrics: { homeserverPings: { inc: (l: { outcome: string }) => { pings.push(l.outcome); } } } as never,
    log,
    signal: new AbortController().signal,
    attempts,
    firstDelayMs: 1,
  });
  return { ok, lines, pings };
}

const ALREADY_CALLED = { status: 502, body: { errcode: "M_UNKNOWN", error: "AlreadyCalled: Tried to cancel an already-called event." } };

describe("start-up ping", () => {
  it("pings again after Synapse's 502 AlreadyCalled and then succeeds", async () => {
    const hs = await fakeHomeserver([ALREADY_CALLED, { status: 200, body: { duration_ms: 3 } }]);
    servers.push(hs.server);
    const { ok, lines, pings } = await run(hs.url);
    expect(ok).toBe(true);
    expect(hs.pings()).toBe(2);
    expect(pings).toEqual(["failed", "ok"]);
    expect(lines.at(-1)?.msg).toBe("the homeserver reaches Loket (appservice ping)");
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it("names homeserver.url when Loket cannot reach the homeserver", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const { ok, lines } = await run(url, 2);
    expect(ok).toBe(false);
    const error = lines.find((l) => l.level === 50);
    expect(error?.msg).toMatch(new RegExp(`^Loket cannot reach the homeserver at homeserver.url ${url} `));
    expect(error?.msg).not.toMatch(/public_url/);
  });

  it("names appservice.public_url when the homeserver cannot reach Loket", async () => {
    const hs = await fakeHomeserver([{ status: 502, body: { errcode: "M_CONNECTION_FAILED", error: "Connection refused" } }]);
    servers.push(hs.server);
    const { ok, lines } = await run(hs.url, 3);
    expect(ok).toBe(false);
    expect(hs.pings()).toBe(3);
    expect(lines.find((l) => l.level === 50)?.msg).toMatch(/^the homeserver answered the ping with an error: it cannot reach Loket at appservice.public_url http:\/\/loket.internal:9993/);
  });

  it("points at the registration and tokens when the homeserver refuses the as_token, without pinging again", async () => {
    const hs = await fakeHomeserver([{ status: 401, body: { errcode: "M_UNKNOWN_TOKEN", error: "Unrecognised access token" } }]);
    servers.push(hs.server);
    const { ok, lines } = await run(hs.url);
    expect(ok).toBe(false);
    expect(hs.pings()).toBe(1);
    expect(lines.find((l) => l.level === 50)?.msg).toMatch(/refused Loket's as_token .*app_service_config_files.*appservice.as_token/);
  });
});
