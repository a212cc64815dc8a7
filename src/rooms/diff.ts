// What must change in a managed room to match the plan, from what Loket last wrote (pure).
import { aclKey, type ServerAclContent } from "../federation/acl.ts";
import type { DesiredRoom } from "./plan.ts";
import type { Applied } from "./store.ts";

export interface RoomChanges {
  name?: string;
  topic?: string;
  alias?: { add: string; remove: string };
  invite: string[];
  remove: string[];
  power?: Record<string, number>;
  state?: DesiredRoom["state"];
  publish?: boolean;
  /** A new m.room.server_acl (null: open the room to every server again). */
  acl?: ServerAclContent | null;
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function diffRoom(applied: Applied, want: DesiredRoom): RoomChanges {
  const had = new Set(applied.members);
  const wanted = new Set(want.members);
  const sortedPower = (p: Record<string, number>): [string, number][] => Object.entries(p).sort(([a], [b]) => a.localeCompare(b));
  return {
    ...(applied.name !== want.name && { name: want.name }),
    ...(applied.topic !== want.topic && { topic: want.topic }),
    ...(applied.alias !== want.alias && { alias: { add: want.alias, remove: applied.alias } }),
    invite: want.members.filter((u) => !had.has(u)),
    remove: applied.members.filter((u) => !wanted.has(u)),
    ...(!sameJson(sortedPower(applied.powerUsers), sortedPower(want.powerUsers)) && { power: want.powerUsers }),
    ...(!sameJson(applied.state, want.state) && { state: want.state }),
    ...(applied.published !== want.published && { publish: want.published }),
    ...((applied.acl ?? "null") !== aclKey(want.acl) && { acl: want.acl }),
  };
}

export function hasChanges(c: RoomChanges): boolean {
  return Object.keys(c).some((k) => k !== "invite" && k !== "remove") || c.invite.length > 0 || c.remove.length > 0;
}

/** What a room looks like after the changes: the new `applied` record. */
export function appliedFrom(want: DesiredRoom, parent: string | undefined): Applied {
  return {
    name: want.name,
    topic: want.topic,
    alias: want.alias,
    members: want.members,
    powerUsers: want.powerUsers,
    state: want.state,
    published: want.published,
    ...(parent !== undefined && { parent }),
    ...(want.acl !== null && { acl: aclKey(want.acl) }),
  };
}
