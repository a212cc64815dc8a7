// Archive hooks are known by their URL: reordering archive.hooks between restarts sends every
// pending delivery to the hook it was meant for (none lost to one, none doubled at another), and
// outbox rows from before the migration (a position, no URL) are adopted at start.
import { createServer } from "node:http";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { deliverHooks } from "../../src/archive/hooks.ts";
import { archivedIn, sendRaw } from "../harness/archive.ts";
import { openDm, waitForMessageFrom } from "../harness/client.ts";
import { startHookReceiver, type HookReceiver } from "../harness/hook-receiver.ts";
import { SERVER_NAME, TEST_MUNICIPALITY } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually } from "../harness/wait.ts";

let a: HookReceiver | undefined;
let b: HookReceiver | undefined;
const archive: Record<string, unknown> = { hook_retry_max_seconds: 1 };
const fixture = useStack(async () => {
  a = await startHookReceiver("secret-a");
  b = await startHookReceiver("secret-b");
  archive.hooks = [{ url: a.url, secret: "secret-a" }, { url: b.url, secret: "secret-b" }];
  return { archive };
}, async () => { await a?.close(); await b?.close(); });
const bot = `@gemeente_testdorp:${SERVER_NAME}`;

const has = (r: HookReceiver, ids: string[]): boolean => ids.every((id) => r.deliveries.some((d) => d.eventId === id));
const pending = async (): Promise<number> =>
  (await fixture.stack.loket.database.query<{ n: number }>("SELECT count(*)::int AS n FROM archive_hook_outbox WHERE delivered_at IS NULL"))[0]?.n ?? -1;

describe("archive hooks keyed by URL", () => {
  it("reordering the hooks between restarts neither loses nor doubles a delivery", async () => {
    const { stack, citizen } = fixture;
    if (!a || !b) throw new Error("no receivers");
    a.down = false; // b stays down: its deliveries wait in the outbox
    const room = await openDm(citizen, bot);
    await waitForMessageFrom(citizen.client, room, bot);
    for (const body of ["Eén", "Twee", "Drie"]) await sendRaw(citizen.client, room, "m.room.message", { msgtype: "m.text", body });
    await stack.loket.idle();
    const ids = (await archivedIn(stack.loket.database, room)).map((r) => r.event_id);
    await eventually(() => Promise.resolve(has(a as HookReceiver, ids) && b && b.refused > 0 ? true : undefined), "a has everything, b refused");

    archive.hooks = [{ url: b.url, secret: "secret-b" }, { url: a.url, secret: "secret-a" }];
    await stack.restartLoket([TEST_MUNICIPALITY]);
    b.down = false;
    await eventually(() => Promise.resolve(has(b as HookReceiver, ids) ? true : undefined), "b gets every record it missed");
    await stack.loket.idle();
    await eventually(async () => ((await pending()) === 0 ? true : undefined), "the outbox delivered");
    // Every record of every room, each exactly once at each hook.
    const all = (await stack.loket.database.query<{ event_id: string }>("SELECT event_id FROM archive_records")).map((r) => r.event_id);
    for (const r of [a, b]) {
      expect(r.badSignatures).toBe(0);
      expect([...r.accepted].sort()).toEqual([...all].sort());
    }
  });

  it("adopts outbox rows from before the migration: their position names the hook as configured now", async () => {
    const { stack } = fixture;
    if (!a || !b) throw new Error("no receivers");
    await stack.stopLoket();
    const { openDatabase } = await import("../../src/db/database.ts");
    const db = await openDatabase({ url: stack.config.database.url, dataDir: stack.config.database.data_dir, poolSize: 1 });
    let eventId = "";
    try {
      // Position 0 is b now (the hooks were reordered above).
      const [row] = await db.query<{ event_id: string }>(`INSERT INTO archive_hook_outbox (hook, conversation, record_id)
        SELECT 0, conversation, id FROM archive_records ORDER BY id DESC LIMIT 1
        RETURNING (SELECT event_id FROM archive_records r WHERE r.id = record_id)`);
      eventId = row?.event_id ?? "";
    } finally {
      await db.close();
    }
    const times = (r: HookReceiver): number => r.accepted.filter((id) => id === eventId).length;
    const [atA, atB] = [times(a), times(b)];
    await stack.restartLoket([TEST_MUNICIPALITY]);
    await eventually(async () => ((await pending()) === 0 ? true : undefined), "the adopted row delivered");
    expect(times(b)).toBe(atB + 1);
    expect(times(a)).toBe(atA);
    const rows = await stack.loket.database.query<{ hook_url: string }>("SELECT hook_url FROM archive_hook_outbox WHERE hook = 0");
    expect(rows).toEqual([{ hook_url: b.url }]);
  });

  it("an answer whose body never ends times out like no answer, and the delivery is tried again", async () => {
    const { stack } = fixture;
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => { res.writeHead(200, { "content-length": "100" }); res.write("{"); });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/stalls`;
    try {
      const db = stack.loket.database;
      await db.query(`INSERT INTO archive_hook_outbox (hook_url, conversation, record_id)
        SELECT $1, conversation, id FROM archive_records ORDER BY id LIMIT 1`, [url]);
      await deliverHooks(db, [{ url, secret: "s" }], pino({ level: "silent" }), new AbortController().signal, 300, 300);
      const [row] = await db.query<{ delivered: boolean; attempts: number; last_error: string }>(
        "SELECT delivered_at IS NOT NULL AS delivered, attempts, last_error FROM archive_hook_outbox WHERE hook_url = $1", [url]);
      expect(row).toMatchObject({ delivered: false, attempts: 1 });
      expect(row?.last_error).toMatch(/abort|timeout/i);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
