// Keeps the inter-government rooms in step with config, from Loket's own index: creates the
// rooms that are missing, and in the others writes only what config changed (name, server ACL,
// power levels), invites staff added to config and kicks staff taken out. A room taken out of
// config is left alone and reported. Nothing is read back from the rooms.
import type { Config, FederationRoomConfig } from "../config/schema.ts";
import type { Database } from "../db/database.ts";
import type { Logger } from "../logging.ts";
import type { BotIntent, Homeserver } from "../matrix/client.ts";
import type { RoomId } from "../matrix/ids.ts";
import type { Municipalities } from "../tenants/municipalities.ts";
import { aclKey, serverAclFor, type ServerAclContent } from "./acl.ts";
import { intergovPowerLevels, intergovRoomContent, LOKET_ROOM_EVENT } from "./room-state.ts";
import { insertIntergovRoom, listIntergovRooms, updateIntergovRoom, type IntergovRecord } from "./store.ts";

export interface ReconcileDeps {
  config: Config;
  database: Database;
  municipalities: Municipalities;
  homeserver: Homeserver;
  log: Logger;
}

export interface ReconcileReport {
  created: string[];
  updated: string[];
  /** Rooms in the index that config no longer names: left alone. */
  orphaned: string[];
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");

async function createRoom(bot: BotIntent, room: FederationRoomConfig, acl: ServerAclContent): Promise<IntergovRecord> {
  const roomId = await bot.createRoom({
    name: room.name,
    preset: "private_chat",
    visibility: "private",
    initial_state: [
      { type: "m.room.server_acl", state_key: "", content: acl },
      { type: LOKET_ROOM_EVENT, state_key: "", content: intergovRoomContent(room) },
      { type: "m.room.history_visibility", state_key: "", content: { history_visibility: "shared" } },
    ],
  });
  const create = (await bot.getState<Record<string, unknown>>(roomId, "m.room.create", "")) ?? {};
  const roomVersion = typeof create.room_version === "string" ? create.room_version : "1";
  return { id: room.id, owner: room.owner, roomId, roomVersion, name: room.name, serverAcl: aclKey(acl), staff: [] };
}

/** Invites or kicks each one; returns who is staff afterwards (a failed call is retried next start). */
async function syncStaff(bot: BotIntent, rec: IntergovRecord, wanted: readonly string[], log: Logger): Promise<string[]> {
  const roomId = rec.roomId as RoomId;
  const now = new Set(rec.staff);
  for (const user of rec.staff.filter((u) => !wanted.includes(u))) {
    try {
      await bot.kick(roomId, user, "no longer staff of this room (Loket config)");
      now.delete(user);
    } catch (err) {
      log.warn({ err, room: rec.id, user }, "could not remove a staff member from an inter-government room");
    }
  }
  for (const user of wanted.filter((u) => !rec.staff.includes(u))) {
    try {
      await bot.invite(roomId, user);
      now.add(user);
    } catch (err) {
      log.warn({ err, room: rec.id, user }, "could not invite a staff member to an inter-government room");
    }
  }
  return [...now].sort();
}

async function reconcileRoom(deps: ReconcileDeps, room: FederationRoomConfig, existing: IntergovRecord | undefined, report: ReconcileReport): Promise<void> {
  const { config, database, municipalities, homeserver, log } = deps;
  const owner = municipalities.all.find((m) => m.id === room.owner);
  if (!owner) throw new Error(`inter-government room '${room.id}': unknown owner '${room.owner}'`);
  if (existing && existing.owner !== room.owner) {
    log.warn({ room: room.id, was: existing.owner, now: room.owner }, "the owner of an inter-government room changed in config; Loket does not move rooms, left alone");
    return;
  }
  const acl = serverAclFor("intergov", { ownServerName: config.homeserver.domain, allowedServers: config.federation.allowed_servers, roomServers: room.servers });
  if (acl === null) throw new Error("an inter-government room always has an ACL");
  const bot = homeserver.intent(owner.botUserId);
  let rec = existing;
  if (!rec) {
    rec = await createRoom(bot, room, acl);
    await insertIntergovRoom(database, rec);
    report.created.push(room.id);
    log.info({ room: room.id, roomId: rec.roomId, owner: room.owner }, "created an inter-government room");
  }
  const roomId = rec.roomId as RoomId;
  const next: IntergovRecord = { ...rec };
  if (rec.name !== room.name) {
    await bot.sendState(roomId, "m.room.name", "", { name: room.name });
    next.name = room.name;
  }
  if (rec.serverAcl !== aclKey(acl)) {
    await bot.sendState(roomId, "m.room.server_acl", "", { ...acl });
    next.serverAcl = aclKey(acl);
  }
  const wanted = [...new Set(room.staff)].filter((u) => u !== owner.botUserId);
  if (!sameSet(rec.staff, wanted)) {
    await bot.sendState(roomId, "m.room.power_levels", "", intergovPowerLevels(owner.botUserId, wanted, rec.roomVersion));
    next.staff = await syncStaff(bot, rec, wanted, log);
  }
  if (next.name !== rec.name || next.serverAcl !== rec.serverAcl || !sameSet(next.staff, rec.staff) || !existing) {
    await updateIntergovRoom(database, next);
    if (existing) report.updated.push(room.id);
    log.info({ room: room.id, roomId, staff: next.staff.length }, "inter-government room in step with config");
  }
}

export async function reconcileIntergovRooms(deps: ReconcileDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { created: [], updated: [], orphaned: [] };
  const index = new Map((await listIntergovRooms(deps.database)).map((r) => [r.id, r]));
  for (const room of deps.config.federation.rooms) {
    await reconcileRoom(deps, room, index.get(room.id), report);
    index.delete(room.id);
  }
  for (const rec of index.values()) {
    report.orphaned.push(rec.id);
    deps.log.warn({ room: rec.id, roomId: rec.roomId }, "an inter-government room is no longer in config; left alone");
  }
  return report;
}
