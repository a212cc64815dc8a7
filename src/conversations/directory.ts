// What Loket knows of a room, for the hooks that ask for every event (the conversations
// capability's commands and reopening, the archive's room context): its conversation, its managed
// room, a bot's direct chat in it. The rooms asked about within one turn of the event loop (the
// room batches of a transaction start together) are read in one query, and each answer is kept
// for ttlMs, also "nothing". What kind of room it is changes only when Loket makes it one (a
// conversation, a managed room, a DM): any write to those tables through Loket (db/changes.ts)
// drops every answer read before it, and a bot acting in a room drops that room's (forget). What
// does change in place (a conversation's status, from any process) is read again by asking for
// a fresh answer ("fresh"), or for a fresh answer only where a conversation was found before
// ("status"); either is still read together with the other rooms of the same turn.
import { roomTablesEpoch } from "../db/changes.ts";
import type { Database } from "../db/database.ts";
import type { ManagedKind } from "../rooms/plan.ts";
import { COLUMNS, conversationFromRow, type Conversation, type ConversationRow } from "./store.ts";

export interface RoomFacts {
  /** The room's conversation; updatedAt is when it last changed (its closing time when closed). */
  conversation?: Conversation & { updatedAt: Date };
  managed?: { municipality: string; kind: ManagedKind; department: string | null };
  /** The bot's direct chat in the room (one it has left counts, after any it is still in). */
  direct?: { bot: string; citizen: string };
}

interface Entry {
  at: number;
  epoch: number;
  facts: Promise<RoomFacts>;
  /** The answer, once read. */
  settled?: RoomFacts;
}

/**
 * How current an answer must be. "kept": as kept (see above). "fresh": read after this call.
 * "status": fresh where the kept answer holds a conversation, whose status may change in place;
 * kept where it holds none, since a room becomes a conversation's only through a write that drops
 * the kept answers (or, written by another process, within ttlMs).
 */
export type Freshness = "kept" | "fresh" | "status";

/** A conversation row whose columns are all null when the room has no conversation. */
interface FactsRow extends Omit<ConversationRow, "id"> {
  id: number | null;
  room: string;
  updated_at: Date | string | null;
  m_municipality: string | null;
  m_kind: ManagedKind | null;
  m_department: string | null;
  d_bot: string | null;
  d_citizen: string | null;
}

const QUERY = `SELECT r.room_id AS room,
    ${COLUMNS.split(", ").map((c) => `c.${c}`).join(", ")}, c.updated_at,
    m.municipality AS m_municipality, m.kind AS m_kind, m.department AS m_department,
    d.bot AS d_bot, d.citizen AS d_citizen
  FROM unnest($1::text[]) AS r(room_id)
  LEFT JOIN LATERAL (SELECT * FROM conversations WHERE conversations.room_id = r.room_id ORDER BY id DESC LIMIT 1) c ON true
  LEFT JOIN managed_rooms m ON m.room_id = r.room_id
  LEFT JOIN LATERAL (SELECT bot, citizen FROM direct_rooms WHERE direct_rooms.room_id = r.room_id
    ORDER BY (left_at IS NULL) DESC, joined_at DESC LIMIT 1) d ON true`;

function factsOf(r: FactsRow): RoomFacts {
  const facts: RoomFacts = {};
  if (r.id !== null) facts.conversation = { ...conversationFromRow({ ...r, id: r.id }), updatedAt: new Date(r.updated_at ?? 0) };
  if (r.m_municipality !== null && r.m_kind !== null) facts.managed = { municipality: r.m_municipality, kind: r.m_kind, department: r.m_department };
  if (r.d_bot !== null && r.d_citizen !== null) facts.direct = { bot: r.d_bot, citizen: r.d_citizen };
  return facts;
}

export class RoomDirectory {
  private readonly db: Database;
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly cache = new Map<string, Entry>();
  /** Rooms to read in the next query, with what their callers wait on. */
  private waiting = new Map<string, { resolve(f: RoomFacts): void; reject(err: Error): void }>();

  constructor(db: Database, opts: { ttlMs?: number; max?: number } = {}) {
    this.db = db;
    this.ttlMs = opts.ttlMs ?? 5_000;
    this.max = opts.max ?? 10_000;
  }

  /** The kept entry when it may answer as current as asked (for "status", only once settled). */
  private kept(roomId: string, freshness: Freshness): Entry | undefined {
    if (freshness === "fresh") return undefined;
    const hit = this.cache.get(roomId);
    if (hit === undefined || hit.epoch !== roomTablesEpoch() || Date.now() - hit.at >= this.ttlMs) return undefined;
    if (freshness === "status" && (hit.settled === undefined || hit.settled.conversation !== undefined)) return undefined;
    return hit;
  }

  /**
   * The answer lookup would give, when it is kept and already read; undefined when it must be
   * read (then use lookup). For the hooks that ask for every event: no promise for a known room.
   */
  peek(roomId: string, freshness: Freshness = "kept"): RoomFacts | undefined {
    return this.kept(roomId, freshness)?.settled;
  }

  /**
   * True when the kept answer says Loket knows nothing of the room (no conversation, managed room
   * or direct chat); false when it knows something, or has no kept answer (then it must be read).
   */
  knowsNothingOf(roomId: string): boolean {
    const facts = this.peek(roomId);
    return facts !== undefined && !facts.conversation && !facts.managed && !facts.direct;
  }

  /** `use` applied to what lookup would answer: at once when peek has it, else once it is read. */
  answer<T>(roomId: string, freshness: Freshness, use: (facts: RoomFacts) => T): T | Promise<T> {
    const kept = this.peek(roomId, freshness);
    return kept ? use(kept) : this.lookup(roomId, freshness).then(use);
  }

  /** What Loket knows of the room, as current as asked. The answer is shared: callers must not change it. */
  lookup(roomId: string, freshness: Freshness = "kept"): Promise<RoomFacts> {
    const hit = this.kept(roomId, freshness);
    if (hit) return hit.facts;
    // The epoch is taken before the read: a write that ends while it runs makes it stale.
    const entry: Entry = { at: Date.now(), epoch: roomTablesEpoch(), facts: this.read(roomId) };
    this.cache.delete(roomId);
    if (this.cache.size >= this.max) this.cache.delete(this.cache.keys().next().value ?? "");
    this.cache.set(roomId, entry);
    entry.facts.then((f) => { entry.settled = f; }, () => { if (this.cache.get(roomId) === entry) this.cache.delete(roomId); });
    return entry.facts;
  }

  forget(roomId: string): void {
    this.cache.delete(roomId);
  }

  private read(roomId: string): Promise<RoomFacts> {
    const already = this.waiting.get(roomId);
    return new Promise<RoomFacts>((resolve, reject) => {
      if (already) {
        this.waiting.set(roomId, {
          resolve: (f) => { already.resolve(f); resolve(f); },
          reject: (e: Error) => { already.reject(e); reject(e); },
        });
        return;
      }
      if (this.waiting.size === 0) setImmediate(() => { void this.flush(); });
      this.waiting.set(roomId, { resolve, reject });
    });
  }

  /** One query for every room asked about since the last one. */
  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = new Map();
    try {
      const rows = await this.db.query<FactsRow>(QUERY, [[...batch.keys()]]);
      const byRoom = new Map(rows.map((r) => [r.room, r]));
      for (const [room, w] of batch) {
        const row = byRoom.get(room);
        w.resolve(row ? factsOf(row) : {});
      }
    } catch (err) {
      for (const w of batch.values()) w.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
