import { describe, expect, it } from "vitest";
import { RoomQueues } from "../../src/matrix/room-queues.ts";

// Long enough for the jobs started in the coming slices of the event loop.
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe("per-room queues", () => {
  it("keeps order within a room and lets rooms overlap", async () => {
    const log: string[] = [];
    const q = new RoomQueues(() => undefined);
    let releaseA!: () => void;
    const gateA = new Promise<void>((r) => { releaseA = r; });
    q.enqueue("!a", async () => { await gateA; log.push("a1"); });
    q.enqueue("!a", () => { log.push("a2"); return Promise.resolve(); });
    q.enqueue("!b", () => { log.push("b1"); return Promise.resolve(); });
    await tick();
    expect(log).toEqual(["b1"]);
    releaseA();
    await q.drain();
    expect(log).toEqual(["b1", "a1", "a2"]);
    expect(q.activeRooms).toBe(0);
  });

  it("a failing job is reported and does not stop its room", async () => {
    const errors: string[] = [];
    const done: string[] = [];
    const q = new RoomQueues((err, room) => errors.push(`${room}: ${(err as Error).message}`));
    q.enqueue("!a", () => Promise.reject(new Error("boom")));
    q.enqueue("!a", () => { done.push("after"); return Promise.resolve(); });
    await q.drain();
    expect(errors).toEqual(["!a: boom"]);
    expect(done).toEqual(["after"]);
  });

  it("starts jobs in slices of the event loop: what arrives meanwhile (the next transaction) is read between them", async () => {
    const q = new RoomQueues(() => undefined, { sliceMs: 1 });
    let done = 0;
    let seenByProbe = -1;
    const spin = (ms: number): void => { const until = performance.now() + ms; while (performance.now() < until) { /* busy */ } };
    for (let r = 0; r < 40; r++) q.enqueue(`!r${r}`, () => { spin(0.2); done++; return Promise.resolve(); });
    // Nothing runs in the turn that queued the jobs (the transaction's 200 goes out first).
    await Promise.resolve();
    expect(done).toBe(0);
    // A callback of the next turn (as socket I/O is) runs long before the 40 jobs (8 ms) are done.
    setImmediate(() => { seenByProbe = done; });
    await q.drain();
    expect(done).toBe(40);
    expect(seenByProbe).toBeGreaterThan(0);
    expect(seenByProbe).toBeLessThan(40);
  });
});
