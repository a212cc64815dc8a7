// `loket rooms -c FILE [--json]`: the rooms Loket manages, per municipality, from its index.
// Conversations are not listed. The JSON form is a contract: one array of
// {municipality, kind, room_id, alias, name} plus department for department rooms.
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
}

const KIND_ORDER = ["space", "service_desk", "department", "intergov"];

export function roomListing(rooms: readonly ManagedRoom[]): RoomListing[] {
  return [...rooms]
    .sort((a, b) => a.municipality.localeCompare(b.municipality) || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.key.localeCompare(b.key))
    .map((r) => ({
      municipality: r.municipality,
      kind: r.kind,
      room_id: r.roomId,
      alias: r.alias,
      name: r.name,
      ...(r.department !== null && { department: r.department }),
    }));
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
    const kind = r.department !== undefined ? `department ${r.department}` : r.kind;
    lines.push(`  ${kind.padEnd(28)} ${(r.alias ?? "-").padEnd(44)} ${r.room_id}`);
  }
  return `${lines.join("\n")}\n`;
}

export async function runRooms(configFile: string, json: boolean): Promise<number> {
  const { config } = loadConfigFile(configFile);
  const db = await openDatabase(databaseOptions(config, 1));
  try {
    await migrate(db);
    const list = roomListing(await listManagedRooms(db));
    process.stdout.write(json ? `${JSON.stringify(list)}\n` : renderRoomTable(list, config));
  } finally {
    await db.close();
  }
  return 0;
}
