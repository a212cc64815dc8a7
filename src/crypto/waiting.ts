// Encrypted events whose room key has not arrived, kept in the database so that they are handed
// on when the key arrives, also after a restart.
import type { Database } from "../db/database.ts";
import type { Logger } from "../logging.ts";
import type { RawEvent } from "../matrix/events.ts";
import type { DecryptedEvent, DecryptResult } from "./decrypt.ts";
import { sessionIdOf } from "./decrypt.ts";
import { NO_OBSERVER, type CryptoObserver } from "./observer.ts";

export type DecryptedHandler = (event: DecryptedEvent) => Promise<void>;

export class WaitingEvents {
  private readonly db: Database;
  private readonly decrypt: (raw: RawEvent) => Promise<DecryptResult>;
  private readonly handler: DecryptedHandler;
  private readonly log: Logger;
  private readonly observer: CryptoObserver;
  /** Retries run one after another, so no event goes to the handler twice at once. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(db: Database, decrypt: (raw: RawEvent) => Promise<DecryptResult>, handler: DecryptedHandler, log: Logger, observer = NO_OBSERVER) {
    this.db = db;
    this.observer = observer;
    this.decrypt = decrypt;
    this.handler = handler;
    this.log = log;
  }

  async add(raw: RawEvent, reason: string): Promise<void> {
    await this.db.query(
      "INSERT INTO crypto_waiting_events (event_id, room_id, session_id, event, reason) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
      [raw.event_id, raw.room_id, sessionIdOf(raw), JSON.stringify(raw), reason],
    );
    await this.count();
  }

  async remove(eventId: string): Promise<void> {
    await this.db.query("DELETE FROM crypto_waiting_events WHERE event_id = $1", [eventId]);
    await this.count();
  }

  /** The events waiting now (also reported to the observer). */
  async count(): Promise<number> {
    const rows = await this.db.query<{ n: number }>("SELECT count(*)::int AS n FROM crypto_waiting_events");
    const n = rows[0]?.n ?? 0;
    this.observer.waitingEvents(n);
    return n;
  }

  /**
   * Tries the waiting events of these sessions again (all of them without `sessions`). Each one
   * that decrypts goes to the handler and, once the handler has resolved, leaves the table: a
   * handler that throws gets the event again on the next key or restart (at least once).
   */
  retry(sessions?: { roomId: string; sessionId: string }[]): Promise<number> {
    const next = this.chain.then(() => this.retryNow(sessions));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async retryNow(sessions?: { roomId: string; sessionId: string }[]): Promise<number> {
    const rows = sessions === undefined
      ? await this.db.query<{ event: string }>("SELECT event FROM crypto_waiting_events ORDER BY received_at")
      : await this.forSessions(sessions);
    let handed = 0;
    for (const row of rows) {
      const raw = JSON.parse(row.event) as RawEvent;
      const res = await this.decrypt(raw);
      if (res.status === "waiting") continue;
      if (res.status === "failed") {
        this.observer.decrypted("failed");
        await this.db.query("UPDATE crypto_waiting_events SET attempts = attempts + 1, reason = $2 WHERE event_id = $1", [raw.event_id, res.reason]);
        continue;
      }
      this.observer.decrypted("ok");
      try {
        await this.handler(res.event);
      } catch (err) {
        this.log.error({ err, eventId: raw.event_id, roomId: raw.room_id }, "handler of a late-decrypted event failed; kept for the next retry");
        await this.db.query("UPDATE crypto_waiting_events SET attempts = attempts + 1 WHERE event_id = $1", [raw.event_id]);
        continue;
      }
      await this.db.query("DELETE FROM crypto_waiting_events WHERE event_id = $1", [raw.event_id]);
      handed++;
    }
    if (rows.length > 0 || sessions === undefined) await this.count();
    return handed;
  }

  private async forSessions(sessions: { roomId: string; sessionId: string }[]): Promise<{ event: string }[]> {
    const out: { event: string }[] = [];
    for (const s of sessions) {
      out.push(...await this.db.query<{ event: string }>(
        "SELECT event FROM crypto_waiting_events WHERE room_id = $1 AND session_id = $2 ORDER BY received_at", [s.roomId, s.sessionId],
      ));
    }
    return out;
  }
}
