// Which servers may take part in a room Loket manages: the m.room.server_acl content, computed
// from config alone (pure). Inter-government rooms use it, and so do department rooms:
//
//   intergov      its own `servers` (only those also in federation.allowed_servers, when set)
//   department    federation.allowed_servers when set, else no ACL (open to every server)
//   service_desk, conversation, space
//                 no ACL: a citizen may use any homeserver
//
// The own server is always allowed twice: by host (remote servers match an ACL by host, without
// port, so this is what lets the others accept our events) and by server name as configured
// (Synapse refuses to send an ACL that does not match its own server_name, port included:
// "Can't create an ACL event that denies the local server").

export type ManagedRoomKind = "space" | "service_desk" | "department" | "conversation" | "intergov";

export interface ServerAclContent {
  allow: string[];
  deny: string[];
  allow_ip_literals: false;
}

export interface ServerAclInput {
  /** This homeserver's server_name (config homeserver.domain), port included when it has one. */
  ownServerName: string;
  /** federation.allowed_servers; empty means no global restriction. */
  allowedServers: readonly string[];
  /** The room's own list (federation.rooms[].servers); inter-government rooms only. */
  roomServers?: readonly string[];
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A server as an ACL names it: a lower-case DNS host name, no port, no IP literal (the ACLs set
 * allow_ip_literals: false) and no glob.
 */
export function isAclHostName(s: string): boolean {
  if (s.length === 0 || s.length > 255) return false;
  const labels = s.split(".");
  if (!labels.every((l) => LABEL.test(l))) return false;
  return !/^\d+$/.test(labels[labels.length - 1] ?? "");
}

/** The host of a server name: `hs-a.test:8481` gives `hs-a.test`, `[::1]:8448` gives `[::1]`. */
export function hostOf(serverName: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(serverName);
  return (m?.[1] ?? serverName).toLowerCase();
}

/** The m.room.server_acl content for a room of `kind`, or null when the room stays open to every server. */
export function serverAclFor(kind: ManagedRoomKind, input: ServerAclInput): ServerAclContent | null {
  const allowed = new Set(input.allowedServers.map((s) => s.toLowerCase()));
  let others: string[];
  if (kind === "intergov") {
    others = (input.roomServers ?? []).map((s) => s.toLowerCase()).filter((s) => allowed.size === 0 || allowed.has(s));
  } else if (kind === "department" && allowed.size > 0) {
    others = [...allowed];
  } else {
    return null;
  }
  const own = [hostOf(input.ownServerName), input.ownServerName];
  const allow = [...new Set([...own, ...others.sort()])];
  return { allow, deny: [], allow_ip_literals: false };
}

/** A stable text form of an ACL (or null), for comparing what was sent with what config wants. */
export function aclKey(acl: ServerAclContent | null): string {
  return acl === null ? "null" : JSON.stringify({ allow: acl.allow, deny: acl.deny, allow_ip_literals: acl.allow_ip_literals });
}
