import { afterEach, describe, expect, it, vi } from "vitest";
import { scanBody } from "../../src/matrix/body-scan.ts";
import { percentDecodeBytes, readTransactionBody, TRANSACTION_LIMITS } from "../../src/matrix/transaction-body.ts";

const event = (i: number, extra: Record<string, unknown> = {}) => ({
  event_id: `$e${i}`, room_id: "!r:hs", type: "m.room.message", sender: "@a:hs", content: { msgtype: "m.text", body: `x${i}` }, ...extra,
});
const buf = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

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
    expect(Object.keys(verdict.txn.extra)).toEqual(["de.sorunome.msc2409.to_device", "org.matrix.msc3202.device_lists"]);
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
