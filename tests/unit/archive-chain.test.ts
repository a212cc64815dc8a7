// The hash chain (pure): RFC 8785 canonical form, tamper detection per kind, tombstones.
import canonicalize from "canonicalize";
import { describe, expect, it } from "vitest";
import { checkRecord, contentHash, GENESIS_HASH, jcs, recordHash, type StoredRecord } from "../../src/archive/chain.ts";
import { dueDate, termDuration } from "../../src/archive/retention.ts";
import { seededRandom as random } from "../harness/random.ts";

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

const KEYS = ["__proto__", "constructor", "body", "msgtype", "m.relates_to", "", "10", "9", "1a", "é", "z", "\u{1F600}", "a\"b", "\u0000", "B", "_"];
const NUMBERS = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 123456789012, 5e-324, 1.7976931348623157e308, 2 ** 53, -3.25];
const STRINGS = ["", "hallo", "é", "\u{1F600}", "\n\t\"\\", "\u0001\u001f\u007f", "\u2028", "Vraag: wanneer?"];

/** Random JSON-like values, lone surrogates, NaN and the infinities now and then. */
function randomValue(r: () => number, depth: number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const kind = depth > 3 ? Math.floor(r() * 4) : Math.floor(r() * 6);
  if (kind === 0) return r() < 0.02 ? pick([NaN, Infinity, -Infinity]) : r() < 0.5 ? pick(NUMBERS) : (r() - 0.5) * 10 ** Math.floor(r() * 30 - 10);
  if (kind === 1) return r() < 0.02 ? "\ud800x" : pick(STRINGS);
  if (kind === 2) return pick([true, false]);
  if (kind === 3) return null;
  if (kind === 4) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 5); i > 0; i--) out[r() < 0.02 ? "\udc00" : pick(KEYS)] = randomValue(r, depth + 1);
  return out;
}

const outcome = (f: () => string | undefined): string => {
  try {
    return `ok ${f()}`;
  } catch (err) {
    return `refused ${(err as Error).message}`;
  }
};

describe("archive hash chain", () => {
  it("writes deep nesting and a member named __proto__ as canonicalize does", () => {
    const deep = JSON.parse(`${"[".repeat(5_000)}1${"]".repeat(5_000)}`) as unknown;
    expect(jcs(deep)).toBe(canonicalize(deep));
    const proto = JSON.parse('{"content":{"__proto__":{"evil":1},"body":"hi"}}') as unknown;
    expect(jcs(proto)).toBe('{"content":{"__proto__":{"evil":1},"body":"hi"}}');
  });

  it("writes what the canonicalize package writes (RFC 8785), and refuses what it refuses, for 20,000 random values", () => {
    const r = random(8785);
    for (let i = 0; i < 20_000; i++) {
      const v = randomValue(r, 0);
      expect(outcome(() => jcs(v)), JSON.stringify(v)).toBe(outcome(() => canonicalize(v)));
    }
  });

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
