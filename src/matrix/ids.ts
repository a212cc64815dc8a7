// Typed Matrix identifiers. Decoded once at the boundary; the rest of the code sees branded strings.
// Grammar: https://spec.matrix.org/v1.16/appendices/#identifier-grammar

export type UserId = string & { readonly __brand: "UserId" };
export type RoomId = string & { readonly __brand: "RoomId" };
export type EventId = string & { readonly __brand: "EventId" };

/** Server name: DNS name, IPv4 or [IPv6] literal, optional port. */
const SERVER_NAME = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,255})(?::\d{1,5})?$/;
/** Localparts Loket creates or accepts (the current, non-historical grammar). */
const LOCALPART = /^[a-z0-9._=\-/+]+$/;

export function isServerName(s: string): boolean {
  return SERVER_NAME.test(s);
}

export function isLocalpart(s: string): boolean {
  return LOCALPART.test(s);
}

export function isUserId(s: string): s is UserId {
  if (!s.startsWith("@") || s.length > 255) return false;
  const colon = s.indexOf(":");
  if (colon < 2) return false;
  return isLocalpart(s.slice(1, colon)) && isServerName(s.slice(colon + 1));
}

export function isRoomId(s: string): s is RoomId {
  return s.startsWith("!") && s.length <= 255 && s.length > 1;
}

export function userId(localpart: string, domain: string): UserId {
  const id = `@${localpart}:${domain}`;
  if (!isUserId(id)) throw new Error(`not a valid Matrix user id: ${id}`);
  return id;
}

export function localpartOf(id: UserId): string {
  return id.slice(1, id.indexOf(":"));
}
