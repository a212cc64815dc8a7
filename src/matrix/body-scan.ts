// A cheap pass over a transaction body's bytes before JSON.parse: it bounds nesting depth, the
// number of events and the size of each event, so that a hostile body (10 MB nested millions of
// levels deep) costs one linear scan and no allocation instead of seconds of parsing and
// hundreds of MB. It also finds the byte ranges of the top-level members, so that members Loket
// does not keep can be cut out while every other byte stays as received, and the events' ids,
// so that a transaction can be stored before JSON.parse has run.

export interface ScanLimits {
  /** Deepest nesting of arrays and objects. */
  maxDepth: number;
  /** Most entries in the top-level `events` array. */
  maxEvents: number;
  /** Largest entry of the `events` array, in bytes as received. */
  maxEventBytes: number;
}

export interface Member {
  /** The member's name, decoded. */
  key: string;
  /** Byte offsets: from the key's opening quote to just after the value. */
  start: number;
  end: number;
}

export type ScanResult =
  /**
   * `eventIds`: the `event_id` of each event of the (last) `events` member that has one as a
   * string, decoded, in order. For a body that decodes as a transaction these are its events' ids.
   */
  | { ok: true; members: Member[]; eventIds: string[] }
  | { ok: false; reason: "too_deep" | "too_many_events" | "event_too_large" };

const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a;
const OPEN_OBJ = 0x7b, CLOSE_OBJ = 0x7d, OPEN_ARR = 0x5b, CLOSE_ARR = 0x5d;
const isSpace = (b: number | undefined): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** Whether the bytes from `start` to `end` (exclusive) hold a backslash; for short strings. */
function hasBackslash(body: Buffer, start: number, end: number): boolean {
  for (let j = start; j < end; j++) if (body[j] === BACKSLASH) return true;
  return false;
}

/** A JSON string's value; `start` and `end` are the indexes of its quotes. */
function decodeString(body: Buffer, start: number, end: number): string {
  return hasBackslash(body, start + 1, end) ? decodeKey(body, start, end + 1) : body.toString("utf8", start + 1, end);
}

const EVENT_ID = Buffer.from('"event_id"');

/**
 * Whether the key between the quotes at `start` and `end` is `event_id`. Byte by byte: most keys
 * differ in length, and a native call per key would cost more than the whole scan otherwise.
 */
function isEventIdKey(body: Buffer, start: number, end: number): boolean {
  const length = end - start + 1;
  if (length === EVENT_ID.length) {
    for (let j = 1; j < length - 1; j++) if (body[start + j] !== EVENT_ID[j]) return false;
    return true;
  }
  // Spelled with escapes: longer, and decoded to compare.
  return length > EVENT_ID.length && hasBackslash(body, start, end) && decodeKey(body, start, end + 1) === "event_id";
}

/** The index of the quote opening the string value after the key ending at `keyEnd`, or -1. */
function stringValueAfter(body: Buffer, keyEnd: number): number {
  let j = keyEnd + 1;
  while (isSpace(body[j])) j++;
  if (body[j] !== COLON) return -1;
  j++;
  while (isSpace(body[j])) j++;
  return body[j] === QUOTE ? j : -1;
}

function decodeKey(body: Buffer, start: number, end: number): string {
  if (!body.subarray(start, end).includes(BACKSLASH)) return body.toString("utf8", start + 1, end - 1);
  try {
    const key: unknown = JSON.parse(body.toString("utf8", start, end));
    return typeof key === "string" ? key : "";
  } catch {
    return "";
  }
}

/** The index of the quote that closes the string opening at `start` (body.length if none). */
function stringEnd(body: Buffer, start: number): number {
  // Most strings are short: a plain loop beats a native call there.
  const near = Math.min(body.length, start + 64);
  for (let j = start + 1; j < near; j++) {
    const b = body[j];
    if (b === BACKSLASH) j++;
    else if (b === QUOTE) return j;
  }
  for (let j = near; ; j++) {
    j = body.indexOf(QUOTE, j);
    if (j === -1) return body.length;
    let backslashes = 0;
    while (body[j - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return j;
  }
}

/**
 * Scans a body. Tolerant of malformed JSON (JSON.parse judges that afterwards): it only
 * reports what breaks a limit, and the top-level members of a top-level object.
 */
export function scanBody(body: Buffer, limits: ScanLimits): ScanResult {
  const members: Member[] = [];
  let depth = 0;
  // Top-level object bookkeeping: the member being read and whether a key is expected.
  const topIsObject = body.find((b) => !isSpace(b)) === OPEN_OBJ;
  let expectKey = false;
  let member: Member | undefined;
  let inEvents = false;
  let events = 0;
  let eventStart = 0;
  // Within an event object: whether a key is expected, and the event's id so far (the last
  // `event_id` member counts, as in JSON.parse).
  let eventKeyExpected = false;
  let eventId: string | undefined;
  let eventIds: string[] = [];
  const closeMember = (at: number): void => {
    if (!member) return;
    let end = at;
    while (end > member.start && isSpace(body[end - 1])) end--;
    member.end = end;
    members.push(member);
    member = undefined;
  };
  for (let i = 0; i < body.length; i++) {
    const b = body[i];
    if (b === QUOTE) {
      // Strings are most of a body: jump to their end with a native search.
      const end = stringEnd(body, i);
      if (topIsObject && depth === 1 && expectKey) {
        member = { key: decodeKey(body, i, end + 1), start: i, end: 0 };
        expectKey = false;
      } else if (depth === 3 && eventKeyExpected) {
        eventKeyExpected = false;
        if (isEventIdKey(body, i, end)) {
          const value = stringValueAfter(body, end);
          if (value !== -1) {
            const valueEnd = stringEnd(body, value);
            eventId = decodeString(body, value, valueEnd);
            i = valueEnd;
            continue;
          }
        }
      }
      i = end;
    } else if (b === OPEN_OBJ || b === OPEN_ARR) {
      if (++depth > limits.maxDepth) return { ok: false, reason: "too_deep" };
      if (depth === 1) expectKey = b === OPEN_OBJ;
      else if (depth === 2 && b === OPEN_ARR && member?.key === "events") {
        inEvents = true;
        eventIds = [];
      } else if (depth === 3 && inEvents) {
        if (++events > limits.maxEvents) return { ok: false, reason: "too_many_events" };
        eventStart = i;
        eventKeyExpected = b === OPEN_OBJ;
        eventId = undefined;
      }
    } else if (b === CLOSE_OBJ || b === CLOSE_ARR) {
      if (depth === 3 && inEvents) {
        if (i + 1 - eventStart > limits.maxEventBytes) return { ok: false, reason: "event_too_large" };
        if (eventId !== undefined) eventIds.push(eventId);
        eventKeyExpected = false;
      }
      if (depth === 2) inEvents = false;
      if (depth === 1 && topIsObject) closeMember(i);
      depth--;
    } else if (b === COMMA && depth === 1 && topIsObject) {
      closeMember(i);
      expectKey = true;
    } else if (b === COMMA && depth === 3 && inEvents) {
      eventKeyExpected = true;
    }
  }
  return { ok: true, members, eventIds };
}

/**
 * The body without the named top-level members; every kept member's bytes stay exactly as
 * received. Returns the body itself when nothing is dropped.
 */
export function withoutMembers(body: Buffer, members: Member[], drop: ReadonlySet<string>): Buffer {
  // An empty member holds nothing to keep out: the body stays as it is (no copy of all of it).
  if (members.every((m) => !drop.has(m.key) || isEmptyMember(body, m))) return body;
  const parts: Buffer[] = [Buffer.from("{")];
  for (const m of members) {
    if (drop.has(m.key)) continue;
    if (parts.length > 1) parts.push(Buffer.from(","));
    parts.push(body.subarray(m.start, m.end));
  }
  parts.push(Buffer.from("}"));
  return Buffer.concat(parts);
}

/** `"name": []`, `{}` or `null` (JSON's own whitespace only): a member that holds nothing. */
function isEmptyMember(body: Buffer, m: Member): boolean {
  return m.end - m.start < 128 && /:[ \t\n\r]*(?:\[[ \t\n\r]*\]|\{[ \t\n\r]*\}|null)$/.test(body.toString("utf8", m.start, m.end));
}
