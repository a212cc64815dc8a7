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

/** Events to process in one room, as one unit of work (one transaction's share of a room). */
export interface Share {
  events: readonly unknown[];
}

/**
 * Joins the shares that wait in the same room's lane into one batch. While a room's lane is busy,
 * its next group waits; a share for that room joins the waiting group as long as the group is the
 * last thing queued there and holds at most `max` events; otherwise it starts a group of its own,
 * to be queued. So an idle room runs each transaction's share at once, and a busy one catches up
 * in batches as large as its backlog: one lookup of the room, one archive write for many
 * transactions (group commit). The order of a room's events stays the order they were queued in.
 */
export class RoomGroups<T extends Share> {
  private readonly waiting = new Map<string, T[]>();
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** Adds a share; returns the group to queue, or undefined when it joined a waiting group. */
  add(roomId: string, share: T): T[] | undefined {
    const group = this.waiting.get(roomId);
    if (group && group.reduce((n, s) => n + s.events.length, 0) + share.events.length <= this.max) {
      group.push(share);
      return undefined;
    }
    const fresh = [share];
    this.waiting.set(roomId, fresh);
    return fresh;
  }

  /** Nothing joins the room's waiting group any more (it starts, or other work was queued after it). */
  close(roomId: string, group?: T[]): void {
    if (group === undefined || this.waiting.get(roomId) === group) this.waiting.delete(roomId);
  }
}
