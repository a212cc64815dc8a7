// Verification: recompute a municipality's chain from its records in a stream, compare it with
// the head row and with every checkpoint, and name the first broken record.
import type { Queryable } from "../db/database.ts";
import { checkRecord, describeBreak, GENESIS_HASH } from "./chain.ts";
import { municipalityRecords, toStored } from "./records.ts";

export interface VerifyResult {
  municipality: string;
  count: number;
  head: string;
  checkpoints: number;
  destroyed: number;
  /** The first problem found; undefined: intact. */
  broken?: string;
}

export async function verifyChain(db: Queryable, municipality: string): Promise<VerifyResult> {
  const checkpoints = await db.query<{ seq: string; hash: string }>(
    "SELECT seq::text AS seq, hash FROM archive_checkpoints WHERE municipality = $1 ORDER BY archive_checkpoints.seq",
    [municipality],
  );
  const destructions = new Set((await db.query<{ id: string }>(
    "SELECT id::text AS id FROM archive_destructions WHERE municipality = $1", [municipality])).map((d) => d.id));
  let cp = 0;
  let prev = { seq: 0, hash: GENESIS_HASH };
  let destroyed = 0;
  const result = (broken?: string): VerifyResult => ({ municipality, count: prev.seq, head: prev.hash, checkpoints: cp, destroyed, broken });
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
  }
  const [head] = await db.query<{ seq: string; hash: string }>("SELECT seq::text AS seq, hash FROM archive_heads WHERE municipality = $1", [municipality]);
  const headSeq = Number(head?.seq ?? 0);
  if (headSeq > prev.seq) return result(describeBreak(municipality, { kind: "missing", seq: prev.seq + 1 }));
  if (headSeq !== prev.seq || (head && head.hash !== prev.hash)) return result(`${municipality} chain head (#${headSeq}) does not match the last record (#${prev.seq})`);
  const late = checkpoints[cp];
  if (late) return result(`${municipality} checkpoint at #${late.seq} is beyond the last record (#${prev.seq}): records were deleted`);
  return result();
}
