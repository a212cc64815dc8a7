// `loket rooms -c FILE [--json]`: the rooms Loket manages, per municipality, from its index.
// Conversations are not listed. The JSON form is a contract: one array of
// {municipality, kind, room_id, alias, name} plus department for department rooms and id for
// inter-government rooms (kind "intergov", which have no alias).
import type { Config } from "../config/schema.ts";
import { loadConfigFile } from "../config/load.ts";
import { databaseOptions, openDatabase } from "../db/database.ts";
import { migrate } from "../db/migrate.ts";
import { listManagedRooms, type ManagedRoom } from "../rooms/store.ts";

export interface RoomListing {
  municipality: string;
  kind: string;
  room_id: string;
  alias: string | null;
  name: string;
  department?: string;
  id?: string;
}

const KIND_ORDER = ["space", "service_desk", "department", "intergov"];

/** An inter-government room from the federation index (table federation_rooms). */
export interface IntergovRoom {
  id: string;
  owner: string;
  roomId: string;
  name: string;
}

export function roomListing(rooms: readonly ManagedRoom[], intergov: readonly IntergovRoom[] = []): RoomListing[] {
  const rank = (l: RoomListing): number => KIND_ORDER.indexOf(l.kind);
  const managed = rooms.map((r): RoomListing & { key: string } => ({
    key: r.key, municipality: r.municipality, kind: r.kind, room_id: r.roomId, alias: r.alias, name: r.name,
    ...(r.department !== null && { department: r.department }),
  }));
  const shared = intergov.map((r): RoomListing & { key: string } => ({
    key: r.id, municipality: r.owner, kind: "intergov", room_id: r.roomId, alias: null, name: r.name, id: r.id,
  }));
  return [...managed, ...shared]
    .sort((x, y) => x.municipality.localeCompare(y.municipality) || rank(x) - rank(y) || x.key.localeCompare(y.key))
    .map(({ key: _key, ...listing }) => listing);
}

export function renderRoomTable(list: readonly RoomListing[], config: Config): string {
  if (list.length === 0) return "No managed rooms yet: 'loket start' creates them.\n";
  const configured = new Set(config.municipalities.map((m) => m.id));
  const lines: string[] = [];
  let current = "";
  for (const r of list) {
    if (r.municipality !== current) {
      current = r.municipality;
      const name = config.municipalities.find((m) => m.id === current)?.name;
      lines.push(configured.has(current) ? `${current} (${name ?? ""})` : `${current} (no longer in the config; left as it is)`);
    }
    const kind = r.department !== undefined ? `department ${r.department}` : r.id !== undefined ? `intergov ${r.id}` : r.kind;
    lines.push(`  ${kind.padEnd(28)} ${(r.alias ?? "-").padEnd(44)} ${r.room_id}`);
  }
  return `${lines.join("\n")}\n`;
}

export async function runRooms(configFile: string, json: boolean): Promise<number> {
  const { config } = loadConfigFile(configFile);
  const db = await openDatabase(databaseOptions(config, 1));
  try {
    await migrate(db);
    const intergov = await db.query<{ id: string; owner: string; room_id: string; name: string }>("SELECT id, owner, room_id, name FROM federation_rooms ORDER BY id");
    const list = roomListing(await listManagedRooms(db), intergov.map((r) => ({ id: r.id, owner: r.owner, roomId: r.room_id, name: r.name })));
    process.stdout.write(json ? `${JSON.stringify(list)}\n` : renderRoomTable(list, config));
  } finally {
    await db.close();
  }
  return 0;
}
