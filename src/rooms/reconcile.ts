// Reconciliation: the config says which rooms each municipality has; the index (managed_rooms)
// says what exists and what Loket last wrote there. Missing rooms are created, changed ones are
// renamed, re-topiced, re-powered, and their staff invited or removed; unchanged rooms cost no
// homeserver call at all. Rooms of municipalities (or departments) no longer in the config are
// reported and left alone, never destroyed.
import type { Config, MunicipalityConfig } from "../config/schema.ts";
import type { Database } from "../db/database.ts";
import type { Metrics } from "../http/metrics.ts";
import type { Logger } from "../logging.ts";
import type { BotIntent, Homeserver } from "../matrix/client.ts";
import type { RoomId } from "../matrix/ids.ts";
import { appliedFrom, diffRoom, hasChanges, type RoomChanges } from "./diff.ts";
import { botOf, desiredRooms, LOKET_ROOM_EVENT, powerLevelsContent, ROOM_VERSION, type DesiredRoom } from "./plan.ts";
import { listManagedRooms, saveManagedRoom, type ManagedRoom } from "./store.ts";

export interface ReconcileDeps {
  db: Database;
  hs: Homeserver;
  config: Config;
  metrics: Metrics;
  log: Logger;
}

export interface ReconcileReport {
  created: number;
  updated: number;
  unchanged: number;
  /** Indexed rooms that the config no longer declares ("municipality/key"), left alone. */
  orphans: string[];
}

const indexKey = (municipality: string, key: string): string => `${municipality}/${key}`;

export class Reconciler {
  private readonly d: ReconcileDeps;
  private index: Map<string, ManagedRoom> | undefined;
  /** One creation or update per room at a time (start-up and alias queries may race). */
  private readonly inflight = new Map<string, Promise<ManagedRoom>>();

  constructor(deps: ReconcileDeps) {
    this.d = deps;
  }

  private async loadIndex(): Promise<Map<string, ManagedRoom>> {
    this.index ??= new Map((await listManagedRooms(this.d.db)).map((r) => [indexKey(r.municipality, r.key), r]));
    return this.index;
  }

  /** Reports rooms in the index that the config no longer declares. */
  async orphans(): Promise<string[]> {
    const index = await this.loadIndex();
    const declared = new Set(this.d.config.municipalities.flatMap((m) => desiredRooms(this.d.config, m).map((r) => indexKey(m.id, r.key))));
    return [...index.keys()].filter((k) => !declared.has(k));
  }

  /** Brings one municipality's rooms in line with the config; returns what was done per room. */
  async reconcileMunicipality(m: MunicipalityConfig): Promise<("created" | "updated" | "unchanged")[]> {
    const rooms = desiredRooms(this.d.config, m);
    const [space, ...children] = rooms;
    if (!space) return [];
    const outcomes: ("created" | "updated" | "unchanged")[] = [];
    const spaceRoom = await this.ensure(m, space, undefined, outcomes);
    for (const child of children) await this.ensure(m, child, spaceRoom.roomId, outcomes);
    return outcomes;
  }

  /** The room for a declared key, created if missing (used by alias queries). */
  async ensureDeclared(m: MunicipalityConfig, key: string): Promise<ManagedRoom | undefined> {
    const rooms = desiredRooms(this.d.config, m);
    const want = rooms.find((r) => r.key === key);
    if (!want) return undefined;
    const space = key === "space" ? undefined : rooms[0] && (await this.ensure(m, rooms[0], undefined, []));
    return this.ensure(m, want, space?.roomId, []);
  }

  private ensure(m: MunicipalityConfig, want: DesiredRoom, parent: RoomId | undefined, outcomes: string[]): Promise<ManagedRoom> {
    const k = indexKey(m.id, want.key);
    const running = this.inflight.get(k);
    if (running) return running;
    const job = this.ensureNow(m, want, parent, outcomes).finally(() => this.inflight.delete(k));
    this.inflight.set(k, job);
    return job;
  }

  private async ensureNow(m: MunicipalityConfig, want: DesiredRoom, parent: RoomId | undefined, outcomes: string[]): Promise<ManagedRoom> {
    const index = await this.loadIndex();
    const k = indexKey(m.id, want.key);
    const bot = this.d.hs.intent(botOf(this.d.config, m));
    const existing = index.get(k);
    let room: ManagedRoom;
    if (!existing) {
      room = await this.create(bot, want, parent);
      outcomes.push("created");
    } else {
      const changes = diffRoom(existing.applied, want);
      if (!hasChanges(changes)) {
        outcomes.push("unchanged");
        this.d.metrics.roomsReconciled.inc({ action: "unchanged" });
        return existing;
      }
      const failed = await this.apply(bot, existing.roomId, changes);
      const members = want.members.filter((u) => !failed.includes(u));
      room = { ...existing, name: want.name, alias: want.alias, applied: { ...appliedFrom(want, existing.applied.parent), members } };
      outcomes.push("updated");
      this.d.log.info({ municipality: m.id, room: want.key, roomId: existing.roomId, changes: Object.keys(changes) }, "managed room brought in line with the config");
    }
    await saveManagedRoom(this.d.db, room);
    index.set(k, room);
    this.d.metrics.roomsReconciled.inc({ action: existing ? "updated" : "created" });
    return room;
  }

  private async create(bot: BotIntent, want: DesiredRoom, parent: RoomId | undefined): Promise<ManagedRoom> {
    const domain = this.d.config.homeserver.domain;
    const initialState: Record<string, unknown>[] = [
      { type: LOKET_ROOM_EVENT, state_key: "", content: want.state },
      { type: "m.room.history_visibility", state_key: "", content: { history_visibility: "shared" } },
    ];
    if (parent) initialState.push({ type: "m.space.parent", state_key: parent, content: { via: [domain], canonical: true } });
    if (want.acl) initialState.push({ type: "m.room.server_acl", state_key: "", content: want.acl });
    const roomId = await bot.createRoom({
      room_version: ROOM_VERSION,
      preset: want.public ? "public_chat" : "private_chat",
      visibility: want.published ? "public" : "private",
      room_alias_name: want.aliasLocalpart,
      name: want.name,
      topic: want.topic,
      ...(want.kind === "space" && { creation_content: { type: "m.space" } }),
      power_level_content_override: powerLevelsContent(want.powerUsers),
      initial_state: initialState,
    });
    if (parent) await bot.sendState(parent, "m.space.child", roomId, { via: [domain], ...(want.kind === "service_desk" && { suggested: true }) });
    const invited = await this.inviteAll(bot, roomId, want.members);
    this.d.log.info({ municipality: want.municipality, room: want.key, roomId, alias: want.alias }, "created a managed room");
    return {
      municipality: want.municipality, key: want.key, kind: want.kind, department: want.department ?? null,
      roomId, alias: want.alias, name: want.name, applied: { ...appliedFrom(want, parent), members: invited },
    };
  }

  /**
   * Invites each user; returns those invited. A failed invite (a staff member's homeserver
   * unreachable) is logged and left out, so that the next start tries again.
   */
  private async inviteAll(bot: BotIntent, roomId: RoomId, users: readonly string[]): Promise<string[]> {
    const invited: string[] = [];
    for (const user of users) {
      try {
        await bot.invite(roomId, user);
        invited.push(user);
      } catch (err) {
        this.d.log.warn({ err, roomId, user }, "could not invite a staff member; the next start tries again");
      }
    }
    return invited;
  }

  /** Applies the changes; returns the users whose invite failed. */
  private async apply(bot: BotIntent, roomId: RoomId, c: RoomChanges): Promise<string[]> {
    if (c.name !== undefined) await bot.sendState(roomId, "m.room.name", "", { name: c.name });
    if (c.topic !== undefined) await bot.sendState(roomId, "m.room.topic", "", { topic: c.topic });
    if (c.alias) {
      await bot.createAlias(c.alias.add, roomId);
      await bot.sendState(roomId, "m.room.canonical_alias", "", { alias: c.alias.add });
      await bot.deleteAlias(c.alias.remove).catch((err: unknown) => { this.d.log.warn({ err, alias: c.alias?.remove }, "could not delete an old alias"); });
    }
    // Power first: a removed staff member loses their power before they are removed.
    if (c.power) await bot.sendState(roomId, "m.room.power_levels", "", powerLevelsContent(c.power));
    const invited = await this.inviteAll(bot, roomId, c.invite);
    for (const user of c.remove) {
      // Someone who already left cannot be kicked; that is fine.
      await bot.kick(roomId, user, "no longer staff of this room in Loket's configuration")
        .catch((err: unknown) => { this.d.log.warn({ err, roomId, user }, "could not remove a former staff member"); });
    }
    if (c.state) await bot.sendState(roomId, LOKET_ROOM_EVENT, "", { ...c.state });
    if (c.acl !== undefined) await bot.sendState(roomId, "m.room.server_acl", "", c.acl ?? { allow: ["*"], deny: [], allow_ip_literals: true });
    if (c.publish !== undefined) await bot.setDirectoryVisibility(roomId, c.publish ? "public" : "private");
    return c.invite.filter((u) => !invited.includes(u));
  }
}

/** Runs fn over items with at most `limit` at a time. */
export async function inPool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
