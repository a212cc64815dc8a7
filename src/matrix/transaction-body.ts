// What Loket makes of a transaction body, before anything is stored: the body to keep (raw
// bytes, minus the ephemeral data nothing uses), its decoded events, or why it cannot be used.
import { isUtf8 } from "node:buffer";
import { scanBody, withoutMembers, type ScanLimits } from "./body-scan.ts";
import { decodeTransaction, type DecodedTransaction } from "./events.ts";

/**
 * Bounds from the spec and Synapse. A PDU is at most 65 536 bytes; the homeserver adds
 * `unsigned` data to what it pushes (prev_content of a state event, the stripped room state of
 * an invite), so an event as received may be a few times that: 256 KiB leaves room for it.
 * Synapse sends at most 100 events per transaction. Nothing Synapse produces nests deeper than
 * its own JSON encoder allows; 512 levels is far beyond any real event and cheap to parse.
 */
export const TRANSACTION_LIMITS: ScanLimits = { maxDepth: 512, maxEvents: 100, maxEventBytes: 256 * 1024 };

/**
 * Top-level members not kept: typing notifications, read receipts and presence (stable name and
 * MSC2409's). No capability uses them, and data minimisation (AVG) says not to store them.
 * Everything else is kept: events, and to-device messages and device-list / key-count data
 * (`de.sorunome.msc2409.to_device`, `org.matrix.msc3202.*`), which E2EE will need.
 */
export const DROPPED_MEMBERS: ReadonlySet<string> = new Set(["ephemeral", "de.sorunome.msc2409.ephemeral"]);

export type PoisonReason = "transaction_id" | "not_utf8" | "too_deep" | "too_many_events" | "event_too_large" | "database_rejected";

/** Why a body is not a transaction: answered 400 with this errcode. */
export interface NotATransaction {
  errcode: "M_NOT_JSON" | "M_BAD_JSON";
  message: string;
}

/**
 * A transaction's events, or a scan of a body whose parsing can wait: `decode` parses it (while
 * the body is being stored, which only needs the scan's event ids), giving the transaction or
 * why the body is not one.
 */
export type TransactionContent = DecodedTransaction | ScannedTransaction;

export interface ScannedTransaction {
  eventIds: readonly string[];
  decode(): DecodedTransaction | NotATransaction;
}

export const isScanned = (c: TransactionContent): c is ScannedTransaction => "decode" in c;
export const isNotATransaction = (v: DecodedTransaction | NotATransaction): v is NotATransaction => "errcode" in v;
/** The ids the store keys a transaction by: in a decoded one, its events' ids. */
export const eventIdsOf = (c: TransactionContent): readonly string[] => (isScanned(c) ? c.eventIds : c.events.map((e) => e.event_id));

export type BodyVerdict =
  /**
   * Worth storing: `body` is what to store (bytes as received, dropped members cut out).
   * A body with events is not parsed yet: `content.decode()` does it.
   */
  | { kind: "transaction"; body: Buffer; content: TransactionContent }
  /** Nothing any capability needs (no events, no to-device or key data): nothing to store. */
  | { kind: "empty" }
  /** A transaction Loket cannot use: recorded as poison, answered 200 so the homeserver moves on. */
  | { kind: "poison"; reason: PoisonReason }
  /** Not a transaction at all: answered 400. */
  | ({ kind: "invalid" } & NotATransaction);

const isEmpty = (v: unknown): boolean =>
  v === null || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && Object.keys(v).length === 0);

function parseTransaction(body: Buffer): DecodedTransaction | NotATransaction {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return { errcode: "M_NOT_JSON", message: "transaction body is not valid JSON" };
  }
  const txn = decodeTransaction(parsed);
  return typeof txn === "string" ? { errcode: "M_BAD_JSON", message: `not a transaction: ${txn}` } : txn;
}

/**
 * Judges a body by one bounded-cost scan. A body with events is not parsed here: its events
 * cannot outnumber the scan's count (each must be an object, and the scan counts every object in
 * every `events` member), and what parsing finds wrong with it is found by `decode()`. A body
 * without events is parsed at once, to tell an empty one from one with to-device data.
 */
export function readTransactionBody(raw: Buffer, limits: ScanLimits = TRANSACTION_LIMITS): BodyVerdict {
  // RFC 8259: JSON between systems is UTF-8. Decoding anything else would replace bytes.
  if (!isUtf8(raw)) return { kind: "poison", reason: "not_utf8" };
  const scan = scanBody(raw, limits);
  if (!scan.ok) return { kind: "poison", reason: scan.reason };
  const body = withoutMembers(raw, scan.members, DROPPED_MEMBERS);
  if (scan.eventIds.length > 0) return { kind: "transaction", body, content: { eventIds: scan.eventIds, decode: () => parseTransaction(body) } };
  const txn = parseTransaction(body);
  if (isNotATransaction(txn)) return { kind: "invalid", ...txn };
  if (txn.events.length === 0 && Object.values(txn.extra).every(isEmpty)) return { kind: "empty" };
  return { kind: "transaction", body, content: txn };
}

/** Percent-decodes a path segment to bytes; a malformed escape stays as written. */
export function percentDecodeBytes(segment: string): Buffer {
  const bytes: number[] = [];
  const literal = Buffer.from(segment, "utf8");
  for (let i = 0; i < literal.length; i++) {
    const b = literal[i] ?? 0;
    const hex = b === 0x25 ? literal.toString("latin1", i + 1, i + 3) : "";
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(b);
    }
  }
  return Buffer.from(bytes);
}
