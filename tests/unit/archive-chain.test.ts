// The hash chain (pure): RFC 8785 canonical form, tamper detection per kind, tombstones.
import { describe, expect, it } from "vitest";
import { checkRecord, contentHash, GENESIS_HASH, jcs, recordHash, type StoredRecord } from "../../src/archive/chain.ts";
import { dueDate, termDuration } from "../../src/archive/retention.ts";

function chain(n: number): StoredRecord[] {
  const out: StoredRecord[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const content = { type: "m.room.message", content: { body: `bericht ${seq}`, n: 1.5 } };
    const base = { municipality: "m", seq, prev_hash: prev, room_id: "!r:x", conversation: "!r:x", reference: null, event_id: `$e${seq}`, event_type: "m.room.message",
      state_key: null, sender: "@a:x", origin_server_ts: 1000 + seq, received_at: new Date(2000 + seq).toISOString(), content_sha256: contentHash(content, null) };
    const hash = recordHash(base);
    out.push({ ...base, hash, content, ciphertext: null, destroyed: false });
    prev = hash;
  }
  return out;
}

function firstBreak(records: StoredRecord[]) {
  let prev = { seq: 0, hash: GENESIS_HASH };
  for (const r of records) {
    const b = checkRecord(r, prev);
    if (b) return b;
    prev = { seq: r.seq, hash: r.hash };
  }
  return undefined;
}

describe("archive hash chain", () => {
  it("uses RFC 8785: sorted keys, no whitespace, ES number form", () => {
    expect(jcs({ b: 1, a: [1e21, 0.1, "é"] })).toBe('{"a":[1e+21,0.1,"é"],"b":1}');
  });

  it("an intact chain verifies; key order of stored JSON does not matter", () => {
    const c = chain(5);
    expect(firstBreak(c)).toBeUndefined();
    const reordered = c.map((r) => ({ ...r, content: JSON.parse(JSON.stringify({ content: (r.content as { content: unknown }).content, type: "m.room.message" })) as unknown }));
    expect(firstBreak(reordered)).toBeUndefined();
  });

  it("names an altered content, altered metadata and a deleted record", () => {
    const c = chain(5);
    const edited = c.map((r) => (r.seq === 3 ? { ...r, content: { type: "m.room.message", content: { body: "vervalst" } } } : r));
    expect(firstBreak(edited)).toEqual({ kind: "content", seq: 3, event_id: "$e3" });
    const resent = c.map((r) => (r.seq === 2 ? { ...r, sender: "@b:x" } : r));
    expect(firstBreak(resent)).toEqual({ kind: "hash", seq: 2, event_id: "$e2" });
    expect(firstBreak(c.filter((r) => r.seq !== 4))).toEqual({ kind: "missing", seq: 4, next: { seq: 5, event_id: "$e5" } });
  });

  it("a tombstone (content deleted by a destruction) keeps the chain; content deleted otherwise does not", () => {
    const c = chain(3);
    const destroyed = c.map((r) => (r.seq === 2 ? { ...r, content: null, destroyed: true } : r));
    expect(firstBreak(destroyed)).toBeUndefined();
    const wiped = c.map((r) => (r.seq === 2 ? { ...r, content: null } : r));
    expect(firstBreak(wiped)).toMatchObject({ kind: "content", seq: 2 });
  });

  it("retention: the term runs from the closing date; B is never due", () => {
    const cat = { id: "a", name: "A", retention_years: 1, valuation: "V" as const, selectielijst: "" };
    expect(dueDate(cat, new Date("2026-03-01T10:00:00Z"))?.toISOString()).toBe("2027-03-01T10:00:00.000Z");
    expect(dueDate({ ...cat, valuation: "B" }, new Date())).toBeUndefined();
    expect(termDuration(5)).toBe("P5Y");
  });
});
