// Checkpoints: each municipality's chain head (seq, hash) written to archive_checkpoints when new
// records came in, and posted as nl.loket.archive.checkpoint state (state key: the municipality
// id) into its archive_checkpoint_room, so the head is witnessed outside the database too.
import type { Database } from "../db/database.ts";
import type { Logger } from "../logging.ts";
import type { Homeserver } from "../matrix/client.ts";
import type { RoomId } from "../matrix/ids.ts";
import type { Municipalities } from "../tenants/municipalities.ts";
import { CHAIN_ALGORITHM } from "./chain.ts";

export const CHECKPOINT_EVENT_TYPE = "nl.loket.archive.checkpoint";

interface Checkpoint { id: string; seq: string; hash: string; created_at: Date; event_id: string | null }

export async function writeCheckpoints(db: Database, hs: Homeserver, municipalities: Municipalities, log: Logger): Promise<void> {
  for (const m of municipalities.all) {
    const [head] = await db.query<{ seq: string; hash: string }>("SELECT seq::text AS seq, hash FROM archive_heads WHERE municipality = $1", [m.id]);
    if (!head) continue;
    let [last] = await db.query<Checkpoint>(
      "SELECT id::text AS id, seq::text AS seq, hash, created_at, event_id FROM archive_checkpoints WHERE municipality = $1 ORDER BY archive_checkpoints.seq DESC, archive_checkpoints.id DESC LIMIT 1",
      [m.id],
    );
    if (!last || Number(last.seq) < Number(head.seq)) {
      [last] = await db.query<Checkpoint>(
        `INSERT INTO archive_checkpoints (municipality, seq, hash, room_id) VALUES ($1, $2, $3, NULLIF($4, ''))
         RETURNING id::text AS id, seq::text AS seq, hash, created_at, event_id`,
        [m.id, head.seq, head.hash, m.config.archive_checkpoint_room],
      );
      log.info({ municipality: m.id, seq: Number(head.seq) }, "archive checkpoint written");
    }
    const room = m.config.archive_checkpoint_room;
    if (!last || last.event_id !== null || room === "") continue;
    const eventId = await hs.intent(m.botUserId).sendState(room as RoomId, CHECKPOINT_EVENT_TYPE, m.id, {
      municipality: m.id,
      seq: Number(last.seq),
      hash: last.hash,
      algorithm: CHAIN_ALGORITHM,
      created_at: new Date(last.created_at).toISOString(),
    });
    await db.query("UPDATE archive_checkpoints SET event_id = $2, room_id = $3 WHERE id = $1", [last.id, eventId, room]);
  }
}
