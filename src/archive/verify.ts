// Verification: recompute a municipality's chain from its records in a stream, compare it with
// the head row, with every checkpoint and (when given) with the checkpoints witnessed in the
// municipality's checkpoint room, and name the first broken record. The witnessed ones are
// outside the database: records rewritten with their chain, head and checkpoint rows recomputed
// still differ from the hashes the room saw.
import type { Queryable } from "../db/database.ts";
import { checkRecord, describeBreak, GENESIS_HASH } from "./chain.ts";
import { municipalityRecords, toStored } from "./records.ts";
import type { Witnessed } from "./witness.ts";

export interface VerifyResult {
  municipality: string;
  count: number;
  head: string;
  checkpoints: number;
  destroyed: number;
  /** How many witnessed checkpoints were compared (undefined: none were given). */
  witnessed?: number;
  /** The first problem found; undefined: intact. */
  broken?: string;
}

/** The checkpoints posted to a room, as the homeserver has them (see witness.ts). */
export interface Witness {
  roomId: string;
  checkpoints: readonly Witnessed[];
}

export async function verifyChain(db: Queryable, municipality: string, witness?: Witness): Promise<VerifyResult> {
  const checkpoints = await db.query<{ seq: string; hash: string }>(
    "SELECT seq::text AS seq, hash FROM archive_checkpoints WHERE municipality = $1 ORDER BY archive_checkpoints.seq",
    [municipality],
  );
  const destructions = new Set((await db.query<{ id: string }>(
    "SELECT id::text AS id FROM archive_destructions WHERE municipality = $1", [municipality])).map((d) => d.id));
  const seen = [...witness?.checkpoints ?? []].sort((a, b) => a.seq - b.seq);
  const where = (w: Witnessed): string => `${municipality} checkpoint at #${w.seq} witnessed in ${witness?.roomId ?? ""} (${w.eventId})`;
  let cp = 0;
  let wi = 0;
  let prev = { seq: 0, hash: GENESIS_HASH };
  let destroyed = 0;
  const result = (broken?: string): VerifyResult => ({ municipality, count: prev.seq, head: prev.hash, checkpoints: cp, destroyed, ...(witness ? { witnessed: wi } : {}), broken });
  for await (const row of municipalityRecords(db, municipality)) {
    const rec = toStored(row);
    const problem = checkRecord(rec, prev);
    if (problem) return result(describeBreak(municipality, problem));
    if (rec.destroyed) {
      if (row.destruction_id === null || !destructions.has(row.destruction_id)) {
        return result(`${municipality} record #${rec.seq} (${rec.event_id}) is marked destroyed outside any recorded destruction`);
      }
      destroyed++;
    }
    prev = { seq: rec.seq, hash: rec.hash };
    for (let c = checkpoints[cp]; c && Number(c.seq) === rec.seq; c = checkpoints[++cp]) {
      if (c.hash !== rec.hash) return result(`${municipality} checkpoint at #${rec.seq} does not match record #${rec.seq} (${rec.event_id}): the record or the checkpoint was altered`);
    }
    for (let w = seen[wi]; w && w.seq === rec.seq; w = seen[++wi]) {
      if (w.hash !== rec.hash) return result(`${where(w)} does not match record #${rec.seq} (${rec.event_id}): records were rewritten`);
    }
  }
  const [head] = await db.query<{ seq: string; hash: string }>("SELECT seq::text AS seq, hash FROM archive_heads WHERE municipality = $1", [municipality]);
  const headSeq = Number(head?.seq ?? 0);
  if (headSeq > prev.seq) return result(describeBreak(municipality, { kind: "missing", seq: prev.seq + 1 }));
  if (headSeq !== prev.seq || (head && head.hash !== prev.hash)) return result(`${municipality} chain head (#${headSeq}) does not match the last record (#${prev.seq})`);
  const late = checkpoints[cp];
  if (late) return result(`${municipality} checkpoint at #${late.seq} is beyond the last record (#${prev.seq}): records were deleted`);
  const beyond = seen[wi];
  if (beyond) return result(`${where(beyond)} is beyond the last record (#${prev.seq}): records were deleted`);
  if (witness) {
    const broken = await compareRows(db, municipality, witness, where);
    if (broken) return result(broken);
  }
  return result();
}

/** The rows of archive_checkpoints against what the room saw: none deleted, none altered, none invented. */
async function compareRows(db: Queryable, municipality: string, witness: Witness, where: (w: Witnessed) => string): Promise<string | undefined> {
  const rows = await db.query<{ seq: string; hash: string; event_id: string }>(
    "SELECT seq::text AS seq, hash, event_id FROM archive_checkpoints WHERE municipality = $1 AND room_id = $2 AND event_id IS NOT NULL",
    [municipality, witness.roomId],
  );
  const byEvent = new Map(rows.map((r) => [r.event_id, r]));
  for (const w of witness.checkpoints) {
    const row = byEvent.get(w.eventId);
    if (!row) return `${where(w)} is missing from archive_checkpoints: the row was deleted`;
    if (Number(row.seq) !== w.seq || row.hash !== w.hash) return `${where(w)} differs from its row in archive_checkpoints (#${row.seq} ${row.hash}): the row was altered`;
  }
  const posted = new Set(witness.checkpoints.map((w) => w.eventId));
  const invented = rows.find((r) => !posted.has(r.event_id));
  if (invented) return `${municipality} checkpoint at #${invented.seq} says it was posted as ${invented.event_id}, but ${witness.roomId} has no such checkpoint`;
  return undefined;
}
