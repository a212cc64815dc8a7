// Reads Loket's inbox as stored, for assertions: every event of every stored transaction.
import type { Database } from "../../src/db/database.ts";
import type { RawEvent } from "../../src/matrix/events.ts";

export interface InboxRow {
  txnSeq: number;
  txnId: string;
  processed: boolean;
  event: RawEvent;
}

export async function inboxEvents(db: Database): Promise<InboxRow[]> {
  const rows = await db.query<{ seq: string; txn_id: string; processed: boolean; body: Uint8Array }>(
    "SELECT seq::text AS seq, txn_id, processed_at IS NOT NULL AS processed, body FROM inbox_transactions ORDER BY seq",
  );
  return rows.flatMap((r) => (JSON.parse(Buffer.from(r.body).toString("utf8")) as { events: RawEvent[] }).events.map((event) => ({
    txnSeq: Number(r.seq), txnId: r.txn_id, processed: r.processed, event,
  })));
}
