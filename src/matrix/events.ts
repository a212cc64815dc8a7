// Decoding at the boundary: transaction bodies and room events become typed values once, here.
import { isRoomId, isUserId, type EventId, type RoomId, type UserId } from "./ids.ts";

export interface RawEvent {
  event_id: string;
  room_id: string;
  type: string;
  sender: string;
  [key: string]: unknown;
}

export interface DecodedTransaction {
  events: RawEvent[];
  /** Ephemeral events and to-device messages, kept as received. */
  extra: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Returns the decoded transaction, or a message saying why the body is not a transaction. */
export function decodeTransaction(body: unknown): DecodedTransaction | string {
  if (!isObject(body)) return "the body must be a JSON object";
  const { events, ...extra } = body;
  if (!Array.isArray(events)) return "'events' must be an array";
  for (const [i, ev] of events.entries()) {
    const problem = eventProblem(ev);
    if (problem !== undefined) return `events[${i}]${problem}`;
  }
  return { events: events as RawEvent[], extra };
}

const EVENT_KEYS = ["event_id", "room_id", "type", "sender"] as const;

/** What keeps a value from being a room event as the homeserver sends one; undefined if nothing. */
function eventProblem(ev: unknown): string | undefined {
  if (!isObject(ev)) return " must be an object";
  const missing = EVENT_KEYS.find((key) => typeof ev[key] !== "string");
  return missing === undefined ? undefined : `.${missing} must be a string`;
}

/** True for a room event as the homeserver sends one (an id, room, type and sender, as strings). */
export const isRawEvent = (ev: unknown): ev is RawEvent => eventProblem(ev) === undefined;

interface Base {
  eventId: EventId;
  roomId: RoomId;
  sender: UserId;
  type: string;
  ts: number;
  raw: RawEvent;
}

export interface MembershipEvent extends Base {
  kind: "membership";
  target: UserId;
  membership: string;
  /** The inviter's claim (content.is_direct) that this is a direct chat. */
  isDirect: boolean;
  /** For invites: the room's join rule from the stripped state the homeserver sends along. */
  inviteJoinRule?: string;
}

export interface MessageEvent extends Base {
  kind: "message";
  msgtype: string;
  body: string;
}

export interface OtherEvent extends Base {
  kind: "other";
}

export type RoomEvent = MembershipEvent | MessageEvent | OtherEvent;

export function decodeEvent(raw: RawEvent): RoomEvent {
  const content = isObject(raw.content) ? raw.content : {};
  const base: Base = {
    eventId: raw.event_id as EventId,
    roomId: (isRoomId(raw.room_id) ? raw.room_id : "") as RoomId,
    sender: raw.sender as UserId,
    type: raw.type,
    ts: typeof raw.origin_server_ts === "number" ? raw.origin_server_ts : 0,
    raw,
  };
  if (raw.type === "m.room.member" && typeof raw.state_key === "string" && isUserId(raw.state_key)) {
    return {
      ...base,
      kind: "membership",
      target: raw.state_key,
      membership: typeof content.membership === "string" ? content.membership : "",
      isDirect: content.is_direct === true,
      inviteJoinRule: inviteJoinRule(raw),
    };
  }
  if (raw.type === "m.room.message" && typeof content.msgtype === "string") {
    return { ...base, kind: "message", msgtype: content.msgtype, body: typeof content.body === "string" ? content.body : "" };
  }
  return { ...base, kind: "other" };
}

function inviteJoinRule(raw: RawEvent): string | undefined {
  const unsigned = isObject(raw.unsigned) ? raw.unsigned : {};
  const state = Array.isArray(unsigned.invite_room_state) ? (unsigned.invite_room_state as unknown[]) : [];
  for (const ev of state) {
    if (isObject(ev) && ev.type === "m.room.join_rules" && isObject(ev.content) && typeof ev.content.join_rule === "string") {
      return ev.content.join_rule;
    }
  }
  return undefined;
}
