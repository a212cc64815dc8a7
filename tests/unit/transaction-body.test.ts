import { afterEach, describe, expect, it, vi } from "vitest";
import { scanBody } from "../../src/matrix/body-scan.ts";
import type { DecodedTransaction } from "../../src/matrix/events.ts";
import { isNotATransaction, isScanned, percentDecodeBytes, readTransactionBody, TRANSACTION_LIMITS, type TransactionContent } from "../../src/matrix/transaction-body.ts";

const event = (i: number, extra: Record<string, unknown> = {}) => ({
  event_id: `$e${i}`, room_id: "!r:hs", type: "m.room.message", sender: "@a:hs", content: { msgtype: "m.text", body: `x${i}` }, ...extra,
});
const buf = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
/** The decoded transaction of a verdict's content (parsed now if the scan left it for later). */
function decode(content: TransactionContent): DecodedTransaction {
  const txn = isScanned(content) ? content.decode() : content;
  if (isNotATransaction(txn)) throw new Error(`not a transaction: ${txn.message}`);
  return txn;
}

afterEach(() => { vi.restoreAllMocks(); });

describe("bounded cost per transaction", () => {
  it("a 10 MB body nested 5 million levels deep is poison, found without parsing it", () => {
    const deep = Buffer.concat([Buffer.from('{"events":['), Buffer.alloc(5_000_000, "["), Buffer.alloc(5_000_000, "]"), Buffer.from("]}")]);
    const parse = vi.spyOn(JSON, "parse");
    expect(readTransactionBody(deep)).toEqual({ kind: "poison", reason: "too_deep" });
    expect(parse).not.toHaveBeenCalled();
  });

  it("more events than Synapse sends, or an event beyond the PDU limit with room for unsigned data, is poison", () => {
    const many = buf({ events: Array.from({ length: 101 }, (_, i) => event(i)) });
    expect(readTransactionBody(many)).toEqual({ kind: "poison", reason: "too_many_events" });
    const big = buf({ events: [event(1, { content: { msgtype: "m.text", body: "x".repeat(TRANSACTION_LIMITS.maxEventBytes) } })] });
    expect(readTransactionBody(big)).toEqual({ kind: "poison", reason: "event_too_large" });
    // A member name spelled with escapes does not slip past the count.
    const escaped = Buffer.from(`{"ev\\u0065nts":${JSON.stringify(Array.from({ length: 101 }, (_, i) => event(i)))}}`);
    expect(readTransactionBody(escaped)).toEqual({ kind: "poison", reason: "too_many_events" });
  });

  it("100 events of ordinary size pass", () => {
    const ok = readTransactionBody(buf({ events: Array.from({ length: 100 }, (_, i) => event(i)) }));
    expect(ok.kind).toBe("transaction");
  });

  it("a body that is not UTF-8 is poison; JSON escapes for NUL and lone surrogates are kept as sent", () => {
    const latin1 = Buffer.concat([Buffer.from('{"events":[],"x":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    expect(readTransactionBody(latin1)).toEqual({ kind: "poison", reason: "not_utf8" });
    const escapes = Buffer.from(`{"events":[${JSON.stringify(event(1)).slice(0, -1)},"weird":"a\\u0000b\\ud800c"}]}`);
    const verdict = readTransactionBody(escapes);
    if (verdict.kind !== "transaction") throw new Error(`unexpected ${verdict.kind}`);
    expect(verdict.body.equals(escapes)).toBe(true);
  });
});

describe("data minimisation", () => {
  it("drops typing, receipts and presence, keeps everything else byte for byte", () => {
    const raw = Buffer.from('{ "events" : [ {"event_id":"$1","room_id":"!r:hs","type":"m.room.message","sender":"@a:hs",  "content":{"body":"é"}} ],\n'
      + '"ephemeral":[{"type":"m.typing","room_id":"!r:hs","content":{"user_ids":["@a:hs"]}}],'
      + '"de.sorunome.msc2409.ephemeral":[{"type":"m.presence"}],"de.sorunome.msc2409.to_device":[{"type":"m.room.encrypted"}] ,'
      + '"org.matrix.msc3202.device_lists":{"changed":["@a:hs"]}}');
    const verdict = readTransactionBody(raw);
    if (verdict.kind !== "transaction") throw new Error(`unexpected ${verdict.kind}`);
    expect(verdict.body.toString()).toBe('{"events" : [ {"event_id":"$1","room_id":"!r:hs","type":"m.room.message","sender":"@a:hs",  "content":{"body":"é"}} ],'
      + '"de.sorunome.msc2409.to_device":[{"type":"m.room.encrypted"}],"org.matrix.msc3202.device_lists":{"changed":["@a:hs"]}}');
    const txn = decode(verdict.content);
    expect(Object.keys(txn.extra)).toEqual(["de.sorunome.msc2409.to_device", "org.matrix.msc3202.device_lists"]);
  });

  it("keeps a body whose dropped members are empty as it is (they hold nothing), and cuts one that is not", () => {
    const raw = Buffer.from('{"events":[{"event_id":"$1","room_id":"!r:hs","type":"m.room.message","sender":"@a:hs","content":{}}],"ephemeral": [ ],"de.sorunome.msc2409.ephemeral":null}');
    const verdict = readTransactionBody(raw);
    if (verdict.kind !== "transaction") throw new Error(`unexpected ${verdict.kind}`);
    expect(verdict.body).toBe(raw);
    // Whitespace JSON does not know is no empty member: cut out (and the rest parsed) as before.
    const nbsp = Buffer.from('{"events":[],"ephemeral":\u00a0[],"de.sorunome.msc2409.to_device":[{"type":"m.dummy"}]}');
    const kept = readTransactionBody(nbsp);
    if (kept.kind !== "transaction") throw new Error(`unexpected ${kept.kind}`);
    expect(kept.body.toString()).toBe('{"events":[],"de.sorunome.msc2409.to_device":[{"type":"m.dummy"}]}');
    const typing = Buffer.from('{"events":[],"ephemeral":[],"de.sorunome.msc2409.ephemeral":[{"type":"m.typing"}],"de.sorunome.msc2409.to_device":[{"type":"m.dummy"}]}');
    const cut = readTransactionBody(typing);
    if (cut.kind !== "transaction") throw new Error(`unexpected ${cut.kind}`);
    expect(cut.body.toString()).toBe('{"events":[],"de.sorunome.msc2409.to_device":[{"type":"m.dummy"}]}');
  });

  it("a transaction of ephemeral data only has nothing to store", () => {
    expect(readTransactionBody(buf({ events: [], ephemeral: [{ type: "m.receipt" }] }))).toEqual({ kind: "empty" });
    expect(readTransactionBody(buf({ events: [] }))).toEqual({ kind: "empty" });
    expect(readTransactionBody(buf({ events: [], "de.sorunome.msc2409.to_device": [{ type: "m.room_key_request" }] })).kind).toBe("transaction");
  });

  it("the body itself is kept when nothing is dropped", () => {
    const raw = buf({ events: [event(1)] });
    const verdict = readTransactionBody(raw);
    expect(verdict.kind === "transaction" && verdict.body).toBe(raw);
  });
});

describe("not a transaction", () => {
  it("is answered as before: M_NOT_JSON, M_BAD_JSON", () => {
    expect(readTransactionBody(Buffer.from("{not json"))).toMatchObject({ kind: "invalid", errcode: "M_NOT_JSON" });
    expect(readTransactionBody(buf({ events: "nope" }))).toMatchObject({ kind: "invalid", errcode: "M_BAD_JSON" });
  });

  it("a body with events is parsed by decode(), which finds what is wrong with it", () => {
    const parse = vi.spyOn(JSON, "parse");
    const broken = readTransactionBody(Buffer.from('{"events":[{"event_id":"$1"}], oops'));
    const bad = readTransactionBody(buf({ events: [{ event_id: "$1", room_id: "!r:hs" }] }));
    const good = readTransactionBody(buf({ events: [event(1)] }));
    expect(parse).not.toHaveBeenCalled();
    if (broken.kind !== "transaction" || bad.kind !== "transaction" || good.kind !== "transaction") throw new Error("expected transactions to store");
    if (!isScanned(broken.content) || !isScanned(bad.content) || !isScanned(good.content)) throw new Error("expected content left for later");
    expect(broken.content.decode()).toMatchObject({ errcode: "M_NOT_JSON" });
    expect(bad.content.decode()).toMatchObject({ errcode: "M_BAD_JSON", message: "not a transaction: events[0].type must be a string" });
    expect(good.content.decode()).toEqual({ events: [event(1)], extra: {} });
  });

  it("the scan reads the event ids JSON.parse reads: escapes, spacing, repeated members, ids nested deeper or as values", () => {
    const bodies = [
      buf({ events: Array.from({ length: 100 }, (_, i) => event(i)) }),
      Buffer.from('{"events":[{"event\\u005fid":"$a\\"b\\u00e9","room_id":"!r:hs","type":"t","sender":"@a:hs"}]}'),
      Buffer.from('{ "events" : [ { "content" : { "event_id" : "$nested" } , "type" : "event_id" , "event_id" :\n "$spaced" , "room_id":"!r:hs","sender":"@a:hs"} ] }'),
      Buffer.from('{"events":[{"event_id":5,"event_id":"$last","room_id":"!r:hs","type":"t","sender":"@a:hs"}]}'),
      Buffer.from('{"events":[{"event_id":"$old"}],"x":{"events":[{"event_id":"$deep"}]},"events":[{"event_id":"$new","room_id":"!r:hs","type":"t","sender":"@a:hs"}]}'),
      Buffer.from(`{"events":[{"event_id":"$${"ü".repeat(40)}","room_id":"!r:hs","type":"t","sender":"@a:hs"}],"ephemeral":[{"event_id":"$eph"}]}`),
    ];
    for (const body of bodies) {
      const scan = scanBody(body, TRANSACTION_LIMITS);
      const parsed = JSON.parse(body.toString()) as { events: { event_id: string }[] };
      expect(scan).toMatchObject({ ok: true, eventIds: parsed.events.map((e) => e.event_id) });
    }
  });

  it("the scan tolerates strings holding brackets, quotes and escapes", () => {
    const tricky = buf({ events: [event(1, { content: { body: '"]}[{\\' } })], long: `${"x".repeat(80)}"]}\\"{`, other: "}" });
    expect(scanBody(tricky, TRANSACTION_LIMITS)).toMatchObject({ ok: true, members: [{ key: "events" }, { key: "long" }, { key: "other" }] });
  });
});

describe("transaction ids from the path", () => {
  it("are percent-decoded to bytes, malformed escapes kept as written", () => {
    expect(percentDecodeBytes("%00")).toEqual(Buffer.from([0]));
    expect(percentDecodeBytes("%FFa%2")).toEqual(Buffer.from([0xff, 0x61, 0x25, 0x32]));
    expect(percentDecodeBytes("42")).toEqual(Buffer.from("42"));
  });
});
