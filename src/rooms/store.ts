// The index of managed rooms (table managed_rooms): what exists and what Loket last wrote there.
import { roomTablesChanged } from "../db/changes.ts";
import type { Queryable } from "../db/database.ts";
import type { RoomId } from "../matrix/ids.ts";
import type { LoketRoomContent, ManagedKind } from "./plan.ts";

/** What Loket last wrote into a managed room; compared with the plan at every start. */
export interface Applied {
  name: string;
  topic: string;
  alias: string;
  members: string[];
  powerUsers: Record<string, number>;
  state: LoketRoomContent;
  published: boolean;
  parent?: string;
  /** aclKey() of the server ACL last written (missing: none written). */
  acl?: string;
}

export interface ManagedRoom {
  municipality: string;
  key: string;
  kind: ManagedKind;
  department: string | null;
  roomId: RoomId;
  alias: string | null;
  name: string;
  applied: Applied;
}

interface Row {
  municipality: string;
  room_key: string;
  kind: ManagedKind;
  department: string | null;
  room_id: string;
  alias: string | null;
  name: string;
  applied: string;
}

const fromRow = (r: Row): ManagedRoom => ({
  municipality: r.municipality,
  key: r.room_key,
  kind: r.kind,
  department: r.department,
  roomId: r.room_id as RoomId,
  alias: r.alias,
  name: r.name,
  applied: JSON.parse(r.applied) as Applied,
});

const COLUMNS = "municipality, room_key, kind, department, room_id, alias, name, applied";

export async function listManagedRooms(db: Queryable): Promise<ManagedRoom[]> {
  const rows = await db.query<Row>(`SELECT ${COLUMNS} FROM managed_rooms ORDER BY municipality, room_key`);
  return rows.map(fromRow);
}

export async function saveManagedRoom(db: Queryable, r: ManagedRoom): Promise<void> {
  await db.query(
    `INSERT INTO managed_rooms (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (municipality, room_key) DO UPDATE SET kind = $3, department = $4, room_id = $5, alias = $6,
       name = $7, applied = $8, updated_at = now()`,
    [r.municipality, r.key, r.kind, r.department, r.roomId, r.alias, r.name, JSON.stringify(r.applied)],
  ).finally(roomTablesChanged);
}

export async function managedRoomByKey(db: Queryable, municipality: string, key: string): Promise<ManagedRoom | undefined> {
  const rows = await db.query<Row>(`SELECT ${COLUMNS} FROM managed_rooms WHERE municipality = $1 AND room_key = $2`, [municipality, key]);
  return rows[0] && fromRow(rows[0]);
}
