// What the rooms of each municipality should look like, derived from the config alone (pure).
// The reconciler compares this plan with its index and changes only what differs.
import type { Config, MunicipalityConfig } from "../config/schema.ts";
import { serverAclFor, type ServerAclContent } from "../federation/acl.ts";
import { t, type Language } from "../i18n/index.ts";
import { userId, type UserId } from "../matrix/ids.ts";

/** The managed kinds of room; `nl.loket.room` carries one of them (contract). */
export type RoomKind = "space" | "service_desk" | "department" | "conversation" | "intergov";
export type ManagedKind = "space" | "service_desk" | "department";

/** Content of the `nl.loket.room` state event (state key ""), a contract. */
export interface LoketRoomContent {
  kind: RoomKind;
  municipality: string;
  department?: string;
  reference?: string;
  status?: "open" | "waiting" | "closed";
}

export const LOKET_ROOM_EVENT = "nl.loket.room";
/** Every room Loket creates uses this room version: its creator (the bot) outranks all power levels. */
export const ROOM_VERSION = "12";
export const STAFF_POWER = 50;

export interface DesiredRoom {
  municipality: string;
  /** Stable key within the municipality: "space", "service_desk" or "department:<id>". */
  key: string;
  kind: ManagedKind;
  department?: string;
  alias: string;
  aliasLocalpart: string;
  name: string;
  topic: string;
  /** Public join rule (space, service desk); the service desk is also published in the directory. */
  public: boolean;
  published: boolean;
  /** Staff invited to the room, sorted. */
  members: string[];
  /** Power of users other than the bot (the bot is the room's creator). */
  powerUsers: Record<string, number>;
  state: LoketRoomContent;
  /** m.room.server_acl for department rooms when federation.allowed_servers is set; null: open. */
  acl: ServerAclContent | null;
}

export const aliasStem = (m: MunicipalityConfig): string => (m.alias !== "" ? m.alias : m.id);
export const referencePrefix = (m: MunicipalityConfig): string => (m.reference_prefix !== "" ? m.reference_prefix : m.id.toUpperCase());

/** Alias localparts of a municipality's rooms, by key. */
export function aliasLocalparts(prefix: string, stem: string, departments: readonly string[]): Map<string, string> {
  const out = new Map<string, string>([["space", `${prefix}${stem}`], ["service_desk", `${prefix}${stem}_balie`]]);
  for (const d of departments) out.set(`department:${d}`, `${prefix}${stem}_afdeling_${d}`);
  return out;
}

/** Staff of one department: its own list, the municipality-wide staff and those who name it. */
export function departmentStaff(m: MunicipalityConfig, departmentId: string): string[] {
  const dep = m.departments.find((d) => d.id === departmentId);
  const wide = m.staff.flatMap((s) => (typeof s === "string" ? [s] : s.departments.includes(departmentId) ? [s.user] : []));
  return [...new Set([...(dep?.staff ?? []), ...wide])].sort();
}

export function allStaff(m: MunicipalityConfig): string[] {
  const ids = [...m.staff.map((s) => (typeof s === "string" ? s : s.user)), ...m.departments.flatMap((d) => d.staff)];
  return [...new Set(ids)].sort();
}

const power = (users: readonly string[]): Record<string, number> =>
  Object.fromEntries(users.map((u) => [u, STAFF_POWER]));

export function desiredRooms(config: Config, m: MunicipalityConfig): DesiredRoom[] {
  const lang: Language = m.language;
  const domain = config.homeserver.domain;
  const aliases = aliasLocalparts(config.appservice.alias_prefix, aliasStem(m), m.departments.map((d) => d.id));
  const alias = (key: string): { alias: string; aliasLocalpart: string } => {
    const aliasLocalpart = aliases.get(key) ?? "";
    return { alias: `#${aliasLocalpart}:${domain}`, aliasLocalpart };
  };
  const staff = allStaff(m);
  const base = { municipality: m.id, acl: null };
  const rooms: DesiredRoom[] = [
    {
      ...base, key: "space", kind: "space", ...alias("space"), name: m.name,
      topic: t(lang, "space_topic", { name: m.name }), public: true, published: false,
      members: staff, powerUsers: power(staff), state: { kind: "space", municipality: m.id },
    },
    {
      ...base, key: "service_desk", kind: "service_desk", ...alias("service_desk"),
      name: t(lang, "service_desk_name", { name: m.name }),
      topic: m.service_desk_topic !== "" ? m.service_desk_topic : t(lang, "service_desk_topic", { name: m.name }),
      public: true, published: true, members: [], powerUsers: power(staff),
      state: { kind: "service_desk", municipality: m.id },
    },
  ];
  for (const d of m.departments) {
    const members = departmentStaff(m, d.id);
    rooms.push({
      ...base, key: `department:${d.id}`, kind: "department", department: d.id, ...alias(`department:${d.id}`),
      name: t(lang, "department_name", { name: m.name, department: d.name }),
      topic: d.topic !== "" ? d.topic : t(lang, "department_topic", { department: d.name }),
      public: false, published: false, members, powerUsers: power(members),
      state: { kind: "department", municipality: m.id, department: d.id },
      acl: serverAclFor("department", { allowedServers: config.federation.allowed_servers, ownServerName: domain }),
    });
  }
  return rooms;
}

/** Full m.room.power_levels content for a managed room (the creator bot is not listed: room v12). */
export function powerLevelsContent(powerUsers: Record<string, number>): Record<string, unknown> {
  return {
    users: powerUsers,
    users_default: 0,
    events_default: 0,
    state_default: STAFF_POWER,
    invite: STAFF_POWER,
    kick: STAFF_POWER,
    ban: STAFF_POWER,
    redact: STAFF_POWER,
    events: {
      "m.room.power_levels": 100,
      "m.room.history_visibility": 100,
      "m.room.join_rules": 100,
      "m.room.encryption": 100,
      "m.room.server_acl": 100,
      "m.room.tombstone": 150,
      "m.space.child": 100,
      "m.space.parent": 100,
      [LOKET_ROOM_EVENT]: 100,
    },
  };
}

export const botOf = (config: Config, m: MunicipalityConfig): UserId => userId(m.bot_localpart, config.homeserver.domain);
