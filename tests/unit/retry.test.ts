import { ConnectionError, MatrixError } from "matrix-js-sdk";
import { describe, expect, it } from "vitest";
import { route, type Capability } from "../../src/core/capability.ts";
import { isTransientMatrixError } from "../../src/matrix/client.ts";
import { decodeEvent } from "../../src/matrix/events.ts";
import { Interrupted } from "../../src/util/retry.ts";

const ev = decodeEvent({ event_id: "$1", room_id: "!r:hs", type: "m.room.message", sender: "@a:hs", content: { msgtype: "m.text", body: "hoi" } });
const policy = (signal = new AbortController().signal) => () => ({ isTransient: isTransientMatrixError, signal, firstDelayMs: 1, maxDelayMs: 4 });

describe("which homeserver failures pass", () => {
  it("connection failures, timeouts, 500/503 and rate limits pass; gateway errors, refusals and bugs do not", () => {
    expect(isTransientMatrixError(new ConnectionError("fetch failed"))).toBe(true);
    expect(isTransientMatrixError(new DOMException("This operation was aborted", "AbortError"))).toBe(true);
    expect(isTransientMatrixError(new MatrixError({ errcode: "M_UNKNOWN" }, 503))).toBe(true);
    expect(isTransientMatrixError(new MatrixError({ errcode: "M_UNKNOWN" }, 502))).toBe(false);
    expect(isTransientMatrixError(new MatrixError({ errcode: "M_LIMIT_EXCEEDED" }, 429))).toBe(true);
    expect(isTransientMatrixError(new MatrixError({ errcode: "M_FORBIDDEN" }, 403))).toBe(false);
    expect(isTransientMatrixError(new Error("bug"))).toBe(false);
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

  it("stopping Loket interrupts a retry instead of failing the event", async () => {
    const ctl = new AbortController();
    const down: Capability = { name: "down", onMessage: () => { ctl.abort(); return Promise.reject(new ConnectionError("down")); } };
    await expect(route([down], ev, policy(ctl.signal))).rejects.toBeInstanceOf(Interrupted);
  });
});
