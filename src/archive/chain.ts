// The hash chain (pure). Canonical JSON is RFC 8785 (JSON Canonicalization Scheme, as the
// `canonicalize` package writes it), not Matrix canonical JSON: JCS is defined for every JSON value
// (floats included), and the archive must hash whatever a homeserver sent.
//
//   content_sha256 = SHA-256(JCS({content, ciphertext}))
//   hash           = SHA-256(JCS({v: 1, municipality, seq, prev_hash, room_id, conversation,
//                    reference, event_id, event_type, state_key, sender, origin_server_ts,
//                    received_at, content_sha256}))
//
// A record's hash covers its content only through content_sha256, so that a destroyed record
// (content deleted, a tombstone) keeps its place in the chain: its metadata, content_sha256
// and hash stay, and the chain still verifies.
import { hash } from "node:crypto";
import canonicalize from "canonicalize";

export const GENESIS_HASH = "0".repeat(64);
export const CHAIN_ALGORITHM = "SHA-256 over RFC 8785 JSON (v1)";

/**
 * RFC 8785 canonical JSON, as the `canonicalize` package writes it, faster for what events are
 * like: the members of every object are put in sorted order (by UTF-16 code units, as
 * Array.prototype.sort compares strings) in a copy that JSON.stringify then writes natively (its
 * strings and numbers are what RFC 8785 prescribes: it defines them by ECMAScript). Lone
 * surrogates, NaN and the infinities are refused, as the package refuses them. What the copy
 * cannot carry goes to the package itself: a member named like an array index ("10"), which
 * JavaScript would put first, a member named "__proto__", which would set the copy's prototype,
 * and nesting deeper than the copy's recursion may go (the package walks without recursion).
 * The unit test holds the two to the same output on random values.
 * The archive hashes every event twice on the way in, and verify every record twice.
 */
export function jcs(value: unknown): string {
  try {
    return stringified(sortedCopy(value, 0));
  } catch (err) {
    if (err !== NOT_HERE) throw err;
    return canonicalize(value) ?? fail("value cannot be encoded as JSON");
  }
}

/** Thrown (one instance, no stack taken per use) when the package must write the value. */
const NOT_HERE = new Error("written by the canonicalize package");
const MAX_DEPTH = 100;
/** JSON.stringify, refusing what it would give undefined for (undefined, functions, symbols). */
function stringified(value: unknown): string {
  if (value === undefined || typeof value === "function" || typeof value === "symbol") fail("value cannot be encoded as JSON");
  return JSON.stringify(value);
}
const fail = (message: string): never => {
  throw new Error(message);
};
const isDigit = (key: string): boolean => key.charCodeAt(0) >= 48 && key.charCodeAt(0) <= 57;

function checked(value: unknown): unknown {
  if (typeof value === "string" && !value.isWellFormed()) fail("Lone surrogate is not allowed");
  if (typeof value === "number" && !Number.isFinite(value)) fail(Number.isNaN(value) ? "NaN is not allowed" : "Infinity is not allowed");
  return value;
}

function sortedCopy(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object") return checked(value);
  if (depth > MAX_DEPTH) throw NOT_HERE;
  const json = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof json === "function") return sortedCopy(json.call(value), depth + 1);
  if (Array.isArray(value)) return value.map((v: unknown) => sortedCopy(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    // "__proto__" would set the copy's prototype instead of making a member.
    if (isDigit(key) || key === "__proto__") throw NOT_HERE;
    checked(key);
    out[key] = sortedCopy((value as Record<string, unknown>)[key], depth + 1);
  }
  return out;
}

export const sha256Hex = (text: string | Buffer): string => hash("sha256", text, "hex");

export function contentHash(content: unknown, ciphertext: unknown): string {
  return sha256Hex(jcs({ content: content ?? null, ciphertext: ciphertext ?? null }));
}

/** The fields of a record the chain hash covers. */
export interface ChainFields {
  municipality: string;
  seq: number;
  prev_hash: string;
  room_id: string;
  conversation: string;
  reference: string | null;
  event_id: string;
  event_type: string;
  state_key: string | null;
  sender: string;
  origin_server_ts: number;
  /** ISO 8601 with milliseconds, UTC (Date.toISOString()). */
  received_at: string;
  content_sha256: string;
}

export function recordHash(f: ChainFields): string {
  return sha256Hex(jcs({
    v: 1,
    municipality: f.municipality,
    seq: f.seq,
    prev_hash: f.prev_hash,
    room_id: f.room_id,
    conversation: f.conversation,
    reference: f.reference,
    event_id: f.event_id,
    event_type: f.event_type,
    state_key: f.state_key,
    sender: f.sender,
    origin_server_ts: f.origin_server_ts,
    received_at: f.received_at,
    content_sha256: f.content_sha256,
  }));
}

/** A stored record as verification reads it. */
export interface StoredRecord extends ChainFields {
  hash: string;
  content: unknown;
  ciphertext: unknown;
  /** Set by a recorded destruction: then content and ciphertext are null (a tombstone). */
  destroyed: boolean;
}

export type Break =
  | { kind: "missing"; seq: number; next?: { seq: number; event_id: string } }
  | { kind: "content"; seq: number; event_id: string }
  | { kind: "hash"; seq: number; event_id: string }
  | { kind: "link"; seq: number; event_id: string };

/** Checks one record against the previous one in the chain; returns the first problem, if any. */
export function checkRecord(rec: StoredRecord, prev: { seq: number; hash: string }): Break | undefined {
  if (rec.seq !== prev.seq + 1) return { kind: "missing", seq: prev.seq + 1, next: { seq: rec.seq, event_id: rec.event_id } };
  const tombstone = rec.content === null && rec.ciphertext === null;
  if (tombstone ? !rec.destroyed : contentHash(rec.content, rec.ciphertext) !== rec.content_sha256) return { kind: "content", seq: rec.seq, event_id: rec.event_id };
  if (rec.prev_hash !== prev.hash) return { kind: "link", seq: rec.seq, event_id: rec.event_id };
  if (recordHash(rec) !== rec.hash) return { kind: "hash", seq: rec.seq, event_id: rec.event_id };
  return undefined;
}

export function describeBreak(municipality: string, b: Break): string {
  switch (b.kind) {
    case "missing":
      return b.next
        ? `${municipality} record #${b.seq} is missing (deleted); the chain goes on at #${b.next.seq} (${b.next.event_id})`
        : `${municipality} record #${b.seq} is missing (deleted): the chain ends before its head`;
    case "content":
      return `${municipality} record #${b.seq} (${b.event_id}) was altered: its content does not match its checksum`;
    case "link":
      return `${municipality} record #${b.seq} (${b.event_id}) does not link to the record before it`;
    case "hash":
      return `${municipality} record #${b.seq} (${b.event_id}) was altered: its metadata does not match its hash`;
  }
}
