// The hash chain (pure). Canonical JSON is RFC 8785 (JSON Canonicalization Scheme, via the
// `canonicalize` package), not Matrix canonical JSON: JCS is defined for every JSON value
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
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

export const GENESIS_HASH = "0".repeat(64);
export const CHAIN_ALGORITHM = "SHA-256 over RFC 8785 JSON (v1)";

export function jcs(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error("value cannot be encoded as JSON");
  return text;
}

export const sha256Hex = (text: string | Buffer): string => createHash("sha256").update(text).digest("hex");

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
