// Transactions Loket cannot use, against a real Synapse: each is recorded as poison and
// acknowledged (Synapse would otherwise resend it for ever and deliver nothing after it), the
// database is not taken for down, and later transactions still flow. Ephemeral data that no
// capability uses is not stored.
import { describe, expect, it } from "vitest";
import { openDm, waitForMessageFrom } from "../harness/client.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually, metricValue } from "../harness/wait.ts";

const fixture = useStack();
const bot = `@gemeente_testdorp:${SERVER_NAME}`;
const metrics = async (): Promise<string> => (await fetch(`${fixture.stack.loket.url}/metrics`)).text();

const put = (txnPath: string, body: Buffer | string): Promise<Response> =>
  fetch(`${fixture.stack.loket.url}/_matrix/app/v1/transactions/${txnPath}`, {
    method: "PUT",
    body,
    headers: { "content-type": "application/json", authorization: `Bearer ${fixture.stack.config.appservice.hs_token}` },
  });

const message = (id: string, extra: Record<string, unknown> = {}) => ({
  event_id: id, room_id: `!poison:${SERVER_NAME}`, type: "m.room.message", sender: `@someone:${SERVER_NAME}`,
  content: { msgtype: "m.text", body: "hallo", ...extra },
});

describe("transactions Loket cannot use", () => {
  it("are recorded as poison and acknowledged, without a 503 loop; later transactions flow", async () => {
    const { stack, citizen } = fixture;
    expect((await fetch(`${stack.loket.url}/ready`)).status).toBe(200);
    const ok = JSON.stringify({ events: [message("$poison1")] });
    const invalidUtf8 = Buffer.concat([Buffer.from('{"events":[],"x":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    const deep = Buffer.concat([Buffer.from('{"events":['), Buffer.alloc(1_000_000, "["), Buffer.alloc(1_000_000, "]"), Buffer.from("]}")]);
    const cases: [string, Buffer | string, string][] = [
      ["%00", ok, "database_rejected"],
      ["%FF%FE", ok, "transaction_id"],
      ["body-not-utf8", invalidUtf8, "not_utf8"],
      ["body-too-deep", deep, "too_deep"],
    ];
    for (const [path, body, reason] of cases) {
      const res = await put(path, body);
      expect(res.status, path).toBe(200);
      expect(await res.json()).toEqual({});
      const rows = await stack.loket.database.query<{ txn_id: Uint8Array; body: Uint8Array }>("SELECT txn_id, body FROM inbox_poison WHERE reason LIKE $1", [`${reason}%`]);
      expect(rows, reason).toHaveLength(1);
      // The bytes as received.
      expect(Buffer.from(rows[0]?.body ?? []).equals(Buffer.from(body))).toBe(true);
    }
    const [idRow] = await stack.loket.database.query<{ txn_id: Uint8Array }>("SELECT txn_id FROM inbox_poison WHERE reason = 'transaction_id'");
    expect(Buffer.from(idRow?.txn_id ?? [])).toEqual(Buffer.from([0xff, 0xfe]));

    const text = await metrics();
    for (const [, , reason] of cases) expect(metricValue(text, `loket_poison_transactions_total{reason="${reason}"}`)).toBe(1);
    expect(metricValue(text, 'loket_transactions_total{outcome="poison"}')).toBe(4);
    expect(metricValue(text, 'loket_transactions_total{outcome="failed"}')).toBe(0);
    expect(metricValue(text, "loket_database_up")).toBe(1);
    expect((await fetch(`${stack.loket.url}/ready`)).status).toBe(200);

    // Synapse's own transactions still get through: a citizen is greeted.
    const roomId = await openDm(citizen, bot);
    await waitForMessageFrom(citizen.client, roomId, bot);
  });

  it("events holding escaped NUL and lone surrogates are stored as sent", async () => {
    const body = Buffer.from(`{"events":[${JSON.stringify(message("$escapes1")).slice(0, -1)},"odd":"a\\u0000b\\ud800"}]}`);
    expect((await put("escapes-1", body)).status).toBe(200);
    const [row] = await fixture.stack.loket.database.query<{ body: Uint8Array }>("SELECT body FROM inbox_transactions WHERE txn_id = 'escapes-1'");
    expect(Buffer.from(row?.body ?? []).equals(body)).toBe(true);
  });
});

describe("data minimisation", () => {
  it("typing notifications and receipts are not stored", async () => {
    const { stack, citizen } = fixture;
    const roomId = await openDm(citizen, bot);
    const greeting = await waitForMessageFrom(citizen.client, roomId, bot);
    await stack.loket.idle();
    const emptyBefore = metricValue(await metrics(), 'loket_transactions_total{outcome="empty"}');
    await citizen.client.sendTyping(roomId, true, 10_000);
    await citizen.client.sendReadReceipt(greeting);
    // Synapse pushes them to Loket, which acknowledges them and keeps nothing.
    await eventually(async () => (metricValue(await metrics(), 'loket_transactions_total{outcome="empty"}') > emptyBefore ? true : undefined), "an ephemeral-only transaction");
    const stored = await stack.loket.database.query("SELECT 1 FROM inbox_transactions WHERE position('m.typing' in convert_from(body, 'UTF8')) > 0 OR position('m.receipt' in convert_from(body, 'UTF8')) > 0");
    expect(stored).toEqual([]);
  });
});
