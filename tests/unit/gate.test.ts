// The gate in front of the homeserver, against small local HTTP servers: a concurrency bound,
// a circuit breaker that pauses every caller while the server does not answer, and a stop that
// ends every request at once.
import { describe, expect, it } from "vitest";
import { HomeserverGate, type GateOptions } from "../../src/matrix/gate.ts";
import { localServers } from "../harness/local-http.ts";

const serve = localServers();

const gate = (o: Partial<GateOptions> = {}): HomeserverGate =>
  new HomeserverGate({ maxConcurrent: 2, requestTimeoutMs: 60_000, firstPauseMs: 20, maxPauseMs: 40, ...o });

describe("the homeserver gate", () => {
  it("has at most maxConcurrent requests under way, however many wait", async () => {
    let open = 0;
    let most = 0;
    const url = await serve((_req, res) => {
      most = Math.max(most, ++open);
      setTimeout(() => { open--; res.end("{}"); }, 5);
    });
    const g = gate({ maxConcurrent: 3 });
    const answers = await Promise.all(Array.from({ length: 40 }, () => g.fetch(url).then((r) => r.status)));
    expect(answers).toEqual(Array(40).fill(200));
    expect(most).toBe(3);
  });

  it("while the homeserver does not answer, only one probe goes out; the rest wait and then all go through", async () => {
    let up = false;
    let refused = 0;
    const url = await serve((req, res) => {
      if (!up) {
        refused++;
        req.socket.destroy();
        return;
      }
      res.end("{}");
    });
    const breaker: boolean[] = [];
    const g = gate({ maxConcurrent: 4, onBreaker: (open) => breaker.push(open) });
    await expect(g.fetch(url)).rejects.toThrow(/could not reach the homeserver: GET http:\/\/127\.0\.0\.1:\d+\//);
    expect(g.snapshot.open).toBe(true);
    // 20 callers arrive while it is down: they wait; probes go out one at a time.
    const waiting = Array.from({ length: 20 }, () => g.fetch(url).then((r) => r.status, () => "failed"));
    await new Promise((r) => setTimeout(r, 150));
    const probes = refused - 1;
    expect(probes).toBeGreaterThan(0);
    expect(probes).toBeLessThan(10);
    up = true;
    const results = await Promise.all(waiting);
    // Each probe that found the server down failed its own caller (which retries); everyone else got through.
    expect(results.filter((r) => r === 200).length).toBe(20 - probes);
    expect(breaker).toEqual([true, false]);
    expect(g.snapshot).toEqual({ inFlight: 0, waiting: 0, open: false });
  });

  it("a request that gets no answer in time fails as a timeout naming the endpoint", async () => {
    const url = await serve(() => { /* never answers */ });
    const g = gate({ requestTimeoutMs: 50 });
    await expect(g.fetch(`${url}/_matrix/client/v3/join/x?user_id=secret`, { method: "POST" }))
      .rejects.toThrow(/did not answer POST http:\/\/127\.0\.0\.1:\d+\/_matrix\/client\/v3\/join\/x within 50 ms$/);
    expect(g.snapshot.open).toBe(true);
  });

  it("stop ends requests under way and those waiting at once", async () => {
    const url = await serve(() => { /* never answers */ });
    const g = gate({ maxConcurrent: 1 });
    const calls = Array.from({ length: 5 }, () => g.fetch(url).then(() => "answered", (e: unknown) => (e as Error).name));
    await new Promise((r) => setTimeout(r, 30));
    expect(g.snapshot).toMatchObject({ inFlight: 1, waiting: 4 });
    g.stop();
    expect(await Promise.all(calls)).toEqual(Array(5).fill("AbortError"));
    await expect(g.fetch(url)).rejects.toThrow(/stopping/);
  });
});
