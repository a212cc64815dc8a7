// The database goes away while a citizen writes: Loket answers 5xx so Synapse keeps the
// transaction, /ready turns 503, and after recovery Synapse's retry stores each event once.
// Always on real PostgreSQL (DATABASE_URL, else the local server), reached through a TCP proxy
// that the test cuts and restores.
import { describe, expect, it } from "vitest";
import { openDm, waitForMessageFrom } from "../harness/client.ts";
import { inboxEvents } from "../harness/inbox.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStackOnProxiedDatabase } from "../harness/use-stack.ts";
import { eventually, metricValue } from "../harness/wait.ts";

const bot = `@gemeente_testdorp:${SERVER_NAME}`;

const fixture = useStackOnProxiedDatabase();

const metrics = async (): Promise<string> => (await fetch(`${fixture.stack.loket.url}/metrics`)).text();

describe("database outage", () => {
  it("answers 5xx while the database is gone and stores the retried events exactly once", async () => {
    const { stack, citizen, proxy } = fixture;
    const roomId = await openDm(citizen, bot);
    await waitForMessageFrom(citizen.client, roomId, bot);
    await stack.loket.idle();

    await proxy.cut();
    const ready = await fetch(`${stack.loket.url}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: "database unavailable" });

    const { event_id: eventId } = await citizen.client.sendTextMessage(roomId, "Wanneer is de milieustraat open?");
    // Synapse pushes the transaction; Loket cannot store it and answers 503.
    await eventually(async () => (metricValue(await metrics(), 'loket_transactions_total{outcome="failed"}') >= 1 ? true : undefined), "a failed transaction");
    expect(metricValue(await metrics(), "loket_database_up")).toBe(0);

    const pingsBefore = metricValue(await metrics(), 'loket_homeserver_pings_total{outcome="ok"}');
    await proxy.restore();
    // Loket notices, pings Synapse, and Synapse retries the stored transaction at once.
    await eventually(async () => ((await inboxEvents(stack.loket.database)).some((r) => r.event.event_id === eventId) ? true : undefined), "the retried event to be stored");
    await stack.loket.idle();
    const copies = (await inboxEvents(stack.loket.database)).filter((r) => r.event.event_id === eventId);
    expect(copies).toHaveLength(1);
    expect(copies[0]?.processed).toBe(true);
    const failures = await stack.loket.database.query("SELECT * FROM inbox_failures");
    expect(failures).toEqual([]);
    expect((await fetch(`${stack.loket.url}/ready`)).status).toBe(200);
    expect(metricValue(await metrics(), "loket_database_up")).toBe(1);
    // Loket noticed the recovery and asked Synapse to retry (an appservice ping) rather than
    // waiting for Synapse's back-off.
    expect(metricValue(await metrics(), 'loket_homeserver_pings_total{outcome="ok"}')).toBe(pingsBefore + 1);
  });
});
