// The index of inter-government rooms: which Matrix room belongs to which configured room, and
// what Loket last wrote to it (name, server ACL, staff).
import type { Queryable } from "../db/database.ts";

export interface IntergovRecord {
  id: string;
  owner: string;
  roomId: string;
  roomVersion: string;
  name: string;
  /** aclKey() of the ACL last sent. */
  serverAcl: string;
  staff: string[];
}

interface Row {
  id: string;
  owner: string;
  room_id: string;
  room_version: string;
  name: string;
  server_acl: string;
  staff: string;
}

const toRecord = (r: Row): IntergovRecord => ({
  id: r.id, owner: r.owner, roomId: r.room_id, roomVersion: r.room_version, name: r.name,
  serverAcl: r.server_acl, staff: JSON.parse(r.staff) as string[],
});

export async function listIntergovRooms(db: Queryable): Promise<IntergovRecord[]> {
  const rows = await db.query<Row>("SELECT id, owner, room_id, room_version, name, server_acl, staff FROM federation_rooms ORDER BY id");
  return rows.map(toRecord);
}

export async function insertIntergovRoom(db: Queryable, rec: IntergovRecord): Promise<void> {
  await db.query(
    "INSERT INTO federation_rooms (id, owner, room_id, room_version, name, server_acl, staff) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [rec.id, rec.owner, rec.roomId, rec.roomVersion, rec.name, rec.serverAcl, JSON.stringify(rec.staff)],
  );
}

export async function updateIntergovRoom(db: Queryable, rec: IntergovRecord): Promise<void> {
  await db.query(
    "UPDATE federation_rooms SET name = $2, server_acl = $3, staff = $4, updated_at = now() WHERE id = $1",
    [rec.id, rec.name, rec.serverAcl, JSON.stringify(rec.staff)],
  );
}
