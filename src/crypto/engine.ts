// The E2EE engine as the rest of Loket meets it: started in the background (it needs the
// homeserver, which may come up after Loket), decrypting what the inbox hands it and encrypting
// what the bots send. Events that wait for their room key come back through `onLate`.
import type { Config } from "../config/schema.ts";
import type { Database } from "../db/database.ts";
import type { Metrics } from "../http/metrics.ts";
import type { Logger } from "../logging.ts";
import type { RawEvent } from "../matrix/events.ts";
import type { UserId } from "../matrix/ids.ts";
import type { Encryptor } from "../matrix/room-encryption.ts";
import { Interrupted, withRetry } from "../util/retry.ts";
import { startCrypto, type CryptoObserver, type CryptoService, type FetchLike } from "./index.ts";

export interface CryptoEngineOptions {
  db: Database;
  config: Config;
  log: Logger;
  bots: UserId[];
  fetch: FetchLike;
  signal: AbortSignal;
  metrics: Metrics;
  /** Handles an event that was decrypted late (its key arrived after it). */
  onLate(event: RawEvent): Promise<void>;
}

export class CryptoEngine implements Encryptor {
  private readonly ready: Promise<CryptoService>;
  private readonly bots: Set<string>;
  private readonly signal: AbortSignal;
  private service: CryptoService | undefined;
  private readonly log: Logger;

  constructor(opts: CryptoEngineOptions) {
    this.bots = new Set(opts.bots);
    this.signal = opts.signal;
    this.log = opts.log;
    this.ready = withRetry(() => startCrypto({
      db: opts.db, config: opts.config, log: opts.log, bots: opts.bots, fetch: opts.fetch,
      observer: observeInto(opts.metrics),
      onDecrypted: (event) => opts.onLate(event),
    }), {
      isTransient: () => true, signal: opts.signal, firstDelayMs: 1_000, maxDelayMs: 60_000,
      onRetry: (err) => { opts.log.warn({ err: String(err) }, "could not start end-to-end encryption yet; retrying"); },
    }).then((s) => {
      this.service = s;
      opts.log.info({ bots: opts.bots.length }, "end-to-end encryption ready");
      return s;
    });
    this.ready.catch(() => undefined);
  }

  /** The service once it runs; a stop while waiting for it interrupts (the event stays pending). */
  private async running(): Promise<CryptoService> {
    if (this.service) return this.service;
    if (this.signal.aborted) throw new Interrupted();
    const stopped = new Promise<never>((_, reject) => {
      this.signal.addEventListener("abort", () => { reject(new Interrupted()); }, { once: true });
    });
    return Promise.race([this.ready, stopped]);
  }

  /**
   * The event to hand to the capabilities: the plaintext of an encrypted one, or undefined when
   * there is none yet (waiting for its key: it comes back through onLate) or ever (undecryptable).
   */
  async inbound(raw: RawEvent, log: Logger): Promise<RawEvent | undefined> {
    if (raw.type !== "m.room.encrypted") return raw;
    const result = await (await this.running()).decrypt(raw);
    if (result.status === "decrypted") return result.event;
    log.info({ eventId: raw.event_id, roomId: raw.room_id, status: result.status, reason: result.reason }, "encrypted event not decrypted now");
    return undefined;
  }

  canEncrypt(bot: string): boolean {
    return this.bots.has(bot);
  }

  async encrypt(bot: string, roomId: string, type: string, content: object): Promise<{ type: "m.room.encrypted"; content: Record<string, unknown> }> {
    const sealed = await (await this.running()).encrypt(bot as UserId, roomId, type, content);
    return { type: "m.room.encrypted", content: sealed.content };
  }

  async shareHistory(bot: string, roomId: string, userId: string): Promise<void> {
    const outcome = await (await this.running()).shareHistory(bot as UserId, roomId, userId);
    this.log.info({ roomId, userId, outcome }, "shared the room's history with an invited user");
  }

  /** Stops the service, also one whose start was under way (the stop has cut its calls short). */
  async stop(): Promise<void> {
    const service = this.service ?? (await this.ready.catch(() => undefined));
    await service?.stop();
  }
}

/** The crypto engine's reports as Prometheus metrics. */
export function observeInto(metrics: Metrics): CryptoObserver {
  return {
    decrypted: (outcome) => { metrics.cryptoDecryptions.inc({ outcome }); },
    encrypted: (outcome) => { metrics.cryptoEncryptions.inc({ outcome }); },
    waitingEvents: (count) => { metrics.cryptoWaitingEvents.set(count); },
    oneTimeKeys: (bot, count) => { metrics.cryptoOneTimeKeys.set({ bot }, count); },
    persisted: (seconds) => { metrics.cryptoPersist.observe(seconds); },
  };
}
