import { ConnectionError, MatrixError } from "matrix-js-sdk";
import { describe, expect, it } from "vitest";
import { route, type Capability } from "../../src/core/capability.ts";
import { decodeEvent } from "../../src/matrix/events.ts";
import { classify, isTransient } from "../../src/matrix/failures.ts";
import { Interrupted, jittered, withRetry } from "../../src/util/retry.ts";

const ev = decodeEvent({ event_id: "$1", room_id: "!r:hs", type: "m.room.message", sender: "@a:hs", content: { msgtype: "m.text", body: "hoi" } });
const policy = (signal = new AbortController().signal) => () => ({ isTransient, signal, firstDelayMs: 1, maxDelayMs: 4 });

describe("which homeserver failures pass", () => {
  it("connection failures, timeouts, every 5xx and rate limits pass; refusals, 404s and bugs do not", () => {
    expect(classify(new ConnectionError("fetch failed"))).toEqual({ kind: "transient", reason: "unreachable" });
    expect(classify(new DOMException("the homeserver did not answer", "TimeoutError")).reason).toBe("unreachable");
    expect(isTransient(new DOMException("This operation was aborted", "AbortError"))).toBe(true);
    expect(isTransient(new MatrixError({ errcode: "M_UNKNOWN" }, 503))).toBe(true);
    expect(isTransient(new MatrixError({ errcode: "M_UNKNOWN" }, 500))).toBe(true);
    expect(isTransient(new MatrixError({ errcode: "M_UNKNOWN" }, 502))).toBe(true);
    expect(classify(new MatrixError({ errcode: "M_LIMIT_EXCEEDED", retry_after_ms: 1500 }, 429))).toEqual({ kind: "transient", reason: "rate-limited", retryAfterMs: 1500 });
    expect(classify(new MatrixError({ errcode: "M_FORBIDDEN" }, 403))).toEqual({ kind: "lasting", reason: "M_FORBIDDEN" });
    expect(isTransient(new MatrixError({ errcode: "M_NOT_FOUND" }, 404))).toBe(false);
    expect(isTransient(new Error("bug"))).toBe(false);
  });
});

describe("back-off", () => {
  it("spreads each delay between half and all of it, so rooms do not retry in lockstep", () => {
    expect(jittered(1000, () => 0)).toBe(500);
    expect(jittered(1000, () => 1)).toBe(1000);
    const delays = new Set(Array.from({ length: 50 }, () => jittered(1000)));
    expect(delays.size).toBeGreaterThan(10);
  });

  it("waits at least as long as the server asked (retry_after_ms)", async () => {
    const waits: number[] = [];
    let calls = 0;
    await withRetry(() => (++calls < 2 ? Promise.reject(new MatrixError({ errcode: "M_LIMIT_EXCEEDED", retry_after_ms: 40 }, 429)) : Promise.resolve()), {
      ...policy()(),
      retryAfterMs: (err) => { const f = classify(err); return f.kind === "transient" ? f.retryAfterMs : undefined; },
      onRetry: (_err, _attempt, delayMs) => { waits.push(delayMs); },
    });
    expect(waits).toEqual([40]);
  });
});

describe("routing with retries", () => {
  it("retries a passing failure until it succeeds; a lasting one is reported, the next capability still runs", async () => {
    let attempts = 0;
    const calls: string[] = [];
    const flaky: Capability = { name: "flaky", onMessage: () => { attempts++; return attempts < 3 ? Promise.reject(new ConnectionError("down")) : Promise.resolve(); } };
    const broken: Capability = { name: "broken", onMessage: () => Promise.reject(new MatrixError({ errcode: "M_FORBIDDEN" }, 403)) };
    const last: Capability = { name: "last", onEvent: (e) => { calls.push(e.eventId); return Promise.resolve(); } };
    const failures = await route([flaky, broken, last], ev, policy());
    expect(attempts).toBe(3);
    expect(failures.map((f) => f.capability)).toEqual(["broken"]);
    expect(calls).toEqual(["$1"]);
  });

  it("gives up after the retry budget and reports the failure", async () => {
    let attempts = 0;
    const down: Capability = { name: "down", onMessage: () => { attempts++; return Promise.reject(new ConnectionError("down")); } };
    const failures = await route([down], ev, () => ({ ...policy()(), giveUpAfterMs: 10 }));
    expect(failures.map((f) => f.capability)).toEqual(["down"]);
    expect(attempts).toBeGreaterThan(1);
  });

  it("a call cut short by the stop counts as interrupted, not failed", async () => {
    const ctl = new AbortController();
    const cut: Capability = { name: "cut", onMessage: () => { ctl.abort(); return Promise.reject(new MatrixError({ errcode: "M_FORBIDDEN" }, 403)); } };
    await expect(route([cut], ev, policy(ctl.signal))).rejects.toBeInstanceOf(Interrupted);
  });

  it("a hook that finishes or throws synchronously is handled as one that resolves or rejects", async () => {
    let attempts = 0;
    const calls: string[] = [];
    // Thrown, not rejected: a passing failure is retried, a lasting one reported; order holds.
    const flaky: Capability = { name: "flaky", onMessage: () => { calls.push("flaky"); if (++attempts < 3) throw new ConnectionError("down"); return undefined; } };
    const broken: Capability = { name: "broken", onEvent: () => { throw new MatrixError({ errcode: "M_FORBIDDEN" }, 403); } };
    const later: Capability = { name: "later", onEvent: () => { calls.push("later"); return Promise.resolve(); } };
    const last: Capability = { name: "last", onMessage: () => { calls.push("last"); return undefined; } };
    const failures = await route([flaky, broken, later, last], ev, policy());
    expect(attempts).toBe(3);
    expect(failures.map((f) => f.capability)).toEqual(["broken"]);
    expect(calls).toEqual(["flaky", "flaky", "flaky", "later", "last"]);
  });

  it("stopping Loket interrupts a retry instead of failing the event", async () => {
    const ctl = new AbortController();
    const down: Capability = { name: "down", onMessage: () => { ctl.abort(); return Promise.reject(new ConnectionError("down")); } };
    await expect(route([down], ev, policy(ctl.signal))).rejects.toBeInstanceOf(Interrupted);
    const thrown = new AbortController();
    const cut: Capability = { name: "cut", onMessage: () => { thrown.abort(); throw new ConnectionError("down"); } };
    await expect(route([cut], ev, policy(thrown.signal))).rejects.toBeInstanceOf(Interrupted);
    // Already stopped: nothing runs, and the event is not done.
    let ran = false;
    const never: Capability = { name: "never", onMessage: () => { ran = true; return undefined; } };
    await expect(route([never], ev, policy(ctl.signal))).rejects.toBeInstanceOf(Interrupted);
    expect(ran).toBe(false);
  });
});
