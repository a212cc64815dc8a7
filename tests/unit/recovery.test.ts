import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.ts";
import { createMetrics } from "../../src/http/metrics.ts";
import { watchRecovery } from "../../src/inbox/recovery.ts";

const log = pino({ level: "silent" });

function fakeDb(up: () => boolean): Database {
  return { ping: () => (up() ? Promise.resolve() : Promise.reject(new Error("down"))) } as unknown as Database;
}

describe("the recovery watch", () => {
  it("pings the homeserver once the database answers again, and only once per refusal spell", async () => {
    let up = false;
    let pings = 0;
    let pinged!: () => void;
    const done = new Promise<void>((r) => { pinged = r; });
    const metrics = createMetrics();
    const watch = watchRecovery(fakeDb(() => up), () => false, metrics, log, () => { pings++; pinged(); return Promise.resolve(); }, 5);
    watch.refused("database");
    watch.refused("database");
    expect((await metrics.databaseUp.get()).values[0]?.value).toBe(0);
    up = true;
    await done;
    await watch.stop();
    expect(pings).toBe(1);
    expect((await metrics.databaseUp.get()).values[0]?.value).toBe(1);
  });

  it("waits while Loket is still busy, then pings", async () => {
    let busy = true;
    let checks = 0;
    let pinged!: () => void;
    const done = new Promise<void>((r) => { pinged = r; });
    const watch = watchRecovery(fakeDb(() => { checks++; if (checks >= 3) busy = false; return true; }), () => busy, createMetrics(), log, () => { pinged(); return Promise.resolve(); }, 5);
    watch.refused("busy");
    await done;
    await watch.stop();
    expect(checks).toBeGreaterThanOrEqual(3);
  });

  it("does nothing after it is stopped", async () => {
    let pings = 0;
    const watch = watchRecovery(fakeDb(() => true), () => false, createMetrics(), log, () => { pings++; return Promise.resolve(); }, 5);
    await watch.stop();
    watch.refused("database");
    await new Promise((r) => setTimeout(r, 30));
    expect(pings).toBe(0);
  });
});
