// A transaction's events, one batch per room: each batch keeps its room's events in the order
// the transaction has them, and batches come in the order of their room's first event. A room's
// batch is processed as one job in its lane (one lookup of what the room is, one archive write),
// and the rooms' batches run in parallel, as the events did.
import type { RawEvent } from "../matrix/events.ts";

export function groupByRoom(events: readonly RawEvent[]): Map<string, RawEvent[]> {
  const rooms = new Map<string, RawEvent[]>();
  for (const ev of events) {
    const batch = rooms.get(ev.room_id);
    if (batch) batch.push(ev);
    else rooms.set(ev.room_id, [ev]);
  }
  return rooms;
}
