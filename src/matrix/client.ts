// Loket's calls to the homeserver (client-server API as the appservice). This is the one
// outgoing path: every request goes through the gate (a global concurrency limit, timeouts and
// a circuit breaker), never through matrix-js-sdk's send queue, which sends every room's messages
// in one line and fails them all together. Callers run in their room's lane of the inbox, so
// each room's calls keep their order and a room that waits for a retry holds only itself.
// Messages are recorded in the database around the send (see sends.ts): exactly once as the
// citizen sees it, across crashes and homeserver restarts.
import { ClientPrefix, createClient, MatrixError, Method, MsgType, type MatrixClient } from "matrix-js-sdk";
import { logger as sdkRootLogger, type Logger as SdkLogger } from "matrix-js-sdk/lib/logger.js";
import type { Database } from "../db/database.ts";
import type { Logger } from "../logging.ts";
import type { HomeserverGate } from "./gate.ts";
import type { RoomId, UserId } from "./ids.ts";
import { findSend, recordAttempt, recordSent, TXN_MARKER, txnIdFor } from "./sends.ts";

export interface HomeserverOptions {
  url: string;
  asToken: string;
  log: Logger;
  gate: HomeserverGate;
  db: Database;
}

// Some SDK modules log through the SDK's root logger (loglevel) to the console; only its
// warnings are worth a line there.
// eslint-disable-next-line @typescript-eslint/no-deprecated -- some SDK modules log through it, not the client logger
(sdkRootLogger as unknown as { setLevel(level: string): void }).setLevel("warn");

/** The SDK's own chatter goes to Loket's log at debug level only. */
function sdkLogger(log: Logger): SdkLogger {
  const debug = (...msg: unknown[]): void => { log.debug({ sdk: msg.map(String).join(" ") }, "matrix-js-sdk"); };
  const self: SdkLogger = { trace: debug, debug, info: debug, warn: debug, error: debug, getChild: () => self };
  return self;
}

function sdkClient(opts: HomeserverOptions, userId?: UserId): MatrixClient {
  return createClient({
    baseUrl: opts.url,
    accessToken: opts.asToken,
    userId,
    queryParams: userId === undefined ? undefined : { user_id: userId },
    fetchFn: opts.gate.fetch,
    logger: sdkLogger(opts.log),
  });
}

const enc = encodeURIComponent;

export interface PingResult {
  ok: boolean;
  durationMs?: number;
  errcode?: string;
  error?: string;
}

/** One bot identity (a municipality's bot, or the appservice sender). */
export class BotIntent {
  readonly userId: UserId;
  private readonly client: MatrixClient;
  private readonly db: Database;

  constructor(opts: HomeserverOptions, userId: UserId, assert: boolean) {
    this.userId = userId;
    this.db = opts.db;
    this.client = sdkClient(opts, assert ? userId : undefined);
  }

  async join(roomId: RoomId): Promise<void> {
    await this.client.http.authedRequest(Method.Post, `/join/${enc(roomId)}`, undefined, {});
  }

  /** Leaves a room, or declines an invite to it. */
  async leave(roomId: RoomId): Promise<void> {
    await this.client.http.authedRequest(Method.Post, `/rooms/${enc(roomId)}/leave`, undefined, {});
  }

  /** The users joined to or invited into a room (the bot must be in it). */
  async members(roomId: RoomId): Promise<string[]> {
    const res = await this.client.http.authedRequest<{ chunk?: { state_key?: string; content?: { membership?: string } }[] }>(
      Method.Get, `/rooms/${enc(roomId)}/members`, { not_membership: "leave" },
    );
    return (res.chunk ?? [])
      .filter((ev) => ev.content?.membership === "join" || ev.content?.membership === "invite")
      .map((ev) => ev.state_key ?? "");
  }

  async setDisplayName(name: string): Promise<void> {
    await this.client.http.authedRequest(Method.Put, `/profile/${enc(this.userId)}/displayname`, undefined, { displayname: name });
  }

  /** Sends an m.notice (automated text: other bots do not answer notices), exactly once per cause. */
  sendNotice(roomId: RoomId, body: string, cause: string): Promise<string> {
    return this.send(roomId, "m.room.message", { msgtype: MsgType.Notice, body }, cause);
  }

  /**
   * Sends a room event exactly once for `cause` (any string that names why it is sent, such as
   * `greeting:$inviteEventId`). A send recorded as accepted is not made again. A send that was
   * attempted but not recorded as accepted (Loket stopped in between) is first looked for in the
   * room's recent timeline by the transaction id it carries in its content; only when it is not
   * there is it sent again. Returns the event id.
   */
  async send(roomId: RoomId, type: string, content: Record<string, unknown>, cause: string): Promise<string> {
    const txnId = txnIdFor(this.userId, roomId, cause);
    const known = await findSend(this.db, txnId);
    if (known?.eventId) return known.eventId;
    if (known) {
      const found = await this.findSent(roomId, type, txnId);
      if (found !== undefined) {
        await recordSent(this.db, txnId, found);
        return found;
      }
    }
    await recordAttempt(this.db, txnId, this.userId, roomId, type);
    const res = await this.client.http.authedRequest<{ event_id: string }>(
      Method.Put, `/rooms/${enc(roomId)}/send/${enc(type)}/${enc(txnId)}`, undefined, { ...content, [TXN_MARKER]: txnId },
    );
    await recordSent(this.db, txnId, res.event_id);
    return res.event_id;
  }

  /** The bot's own recent events of `type` in the room (newest 50), searched for txnId. */
  private async findSent(roomId: RoomId, type: string, txnId: string): Promise<string | undefined> {
    const filter = JSON.stringify({ senders: [this.userId], types: [type] });
    const res = await this.client.http.authedRequest<{ chunk?: { event_id: string; content?: Record<string, unknown> }[] }>(
      Method.Get, `/rooms/${enc(roomId)}/messages`, { dir: "b", limit: "50", filter },
    );
    return res.chunk?.find((ev) => ev.content?.[TXN_MARKER] === txnId)?.event_id;
  }

  /** Sets a room state event (PUT /rooms/{roomId}/state/{type}/{stateKey}); returns its event id. */
  async setState(roomId: RoomId, type: string, stateKey: string, content: Record<string, unknown>): Promise<string> {
    const res = await this.client.http.authedRequest<{ event_id: string }>(
      Method.Put, `/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, undefined, content,
    );
    return res.event_id;
  }
}

/** Calls made as the appservice itself, and the bots it acts as. */
export class Homeserver {
  private readonly opts: HomeserverOptions;
  private readonly sender: MatrixClient;
  private readonly intents = new Map<string, BotIntent>();

  constructor(opts: HomeserverOptions) {
    this.opts = opts;
    this.sender = sdkClient(opts);
  }

  /** The client acting as userId (one per user, reused). */
  intent(userId: UserId, isSender = false): BotIntent {
    let intent = this.intents.get(userId);
    if (!intent) {
      intent = new BotIntent(this.opts, userId, !isSender);
      this.intents.set(userId, intent);
    }
    return intent;
  }

  /** Cuts short every request under way or waiting, so that a stop never waits for the homeserver. */
  abortAll(): void {
    this.opts.gate.stop();
  }

  /** Registers a user in the appservice's namespace; an existing user is fine. */
  async ensureRegistered(localpart: string): Promise<"created" | "existed"> {
    try {
      await this.sender.http.authedRequest(Method.Post, "/register", undefined, {
        type: "m.login.application_service",
        username: localpart,
        inhibit_login: true,
      });
      return "created";
    } catch (err) {
      if (err instanceof MatrixError && err.errcode === "M_USER_IN_USE") return "existed";
      throw err;
    }
  }

  /** Asks the homeserver to ping Loket back (MSC2659); also makes it retry a backed-off queue. */
  async ping(appserviceId: string, transactionId?: string): Promise<PingResult> {
    try {
      const path = `/appservice/${enc(appserviceId)}/ping`;
      const body = transactionId === undefined ? {} : { transaction_id: transactionId };
      const res = await this.sender.http.authedRequest<{ duration_ms: number }>(
        Method.Post, path, undefined, body, { prefix: ClientPrefix.V1, priority: undefined },
      );
      return { ok: true, durationMs: res.duration_ms };
    } catch (err) {
      if (err instanceof MatrixError) return { ok: false, errcode: err.errcode ?? "M_UNKNOWN", error: err.data.error ?? err.message };
      return { ok: false, errcode: "CONNECTION_FAILED", error: (err as Error).message };
    }
  }
}
