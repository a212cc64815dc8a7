// Loket's calls to the homeserver (client-server API as the appservice), through matrix-js-sdk.
// Each bot is a MatrixClient with the as_token that asserts its identity with ?user_id=.
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { ClientPrefix, ConnectionError, createClient, MatrixError, Method, MsgType, type MatrixClient } from "matrix-js-sdk";
import { logger as sdkRootLogger, type Logger as SdkLogger } from "matrix-js-sdk/lib/logger.js";
import type { Logger } from "../logging.ts";
import type { RoomId, UserId } from "./ids.ts";

export interface HomeserverOptions {
  url: string;
  asToken: string;
  log: Logger;
}

// Some SDK modules (the send scheduler) log through the SDK's root logger (loglevel) to the
// console; only its warnings are worth a line there.
// eslint-disable-next-line @typescript-eslint/no-deprecated -- the scheduler logs through it, not the client logger
(sdkRootLogger as unknown as { setLevel(level: string): void }).setLevel("warn");

/** The SDK's own chatter goes to Loket's log at debug level only. */
function sdkLogger(log: Logger): SdkLogger {
  const debug = (...msg: unknown[]): void => { log.debug({ sdk: msg.map(String).join(" ") }, "matrix-js-sdk"); };
  const self: SdkLogger = { trace: debug, debug, info: debug, warn: debug, error: debug, getChild: () => self };
  return self;
}

export interface PingResult {
  ok: boolean;
  durationMs?: number;
  errcode?: string;
  error?: string;
}

/**
 * True for failures that may pass: the homeserver unreachable, slow, overloaded or rate
 * limiting. Not 502/504: Synapse answers those when another server fails (a remote join), which
 * retrying from here does not mend.
 */
export function isTransientMatrixError(err: unknown): boolean {
  if (err instanceof ConnectionError) return true;
  if (err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError")) return true;
  if (err instanceof MatrixError) {
    const status = err.httpStatus ?? 0;
    return status === 500 || status === 503 || status === 429 || err.errcode === "M_LIMIT_EXCEEDED";
  }
  return err instanceof TypeError && err.message.includes("fetch failed");
}

/** One bot identity (a municipality's bot, or the appservice sender). */
export class BotIntent {
  readonly userId: UserId;
  private readonly client: MatrixClient;

  constructor(opts: HomeserverOptions, userId: UserId, assert: boolean) {
    this.userId = userId;
    this.client = createClient({
      baseUrl: opts.url,
      accessToken: opts.asToken,
      userId,
      queryParams: assert ? { user_id: userId } : undefined,
      localTimeoutMs: 30_000,
      logger: sdkLogger(opts.log),
    });
  }

  /** Cuts short every request of this client that is under way (at shutdown). */
  abort(): void {
    this.client.http.abort();
  }

  async join(roomId: RoomId): Promise<void> {
    await this.joinAfterRemoteInvite(roomId);
  }

  /** Leaves a room, or declines an invite to it. */
  async leave(roomId: RoomId): Promise<void> {
    await this.client.leave(roomId);
  }

  /** The users joined to or invited into a room (the bot must be in it). */
  async members(roomId: RoomId): Promise<string[]> {
    const res = await this.client.members(roomId, undefined, "leave");
    const chunk = (res as unknown as { chunk?: { state_key?: string; content?: { membership?: string } }[] }).chunk ?? [];
    return chunk
      .filter((ev) => ev.content?.membership === "join" || ev.content?.membership === "invite")
      .map((ev) => ev.state_key ?? "");
  }

  async setDisplayName(name: string): Promise<void> {
    await this.client.setDisplayName(name);
  }

  /**
   * Sends an m.notice (automated text: other bots do not answer notices). The transaction id
   * derives from `dedupeKey`, so sending again after a crash does not post the text twice.
   */
  async sendNotice(roomId: RoomId, body: string, dedupeKey: string): Promise<string> {
    const txnId = `loket.${createHash("sha256").update(dedupeKey).digest("hex").slice(0, 32)}`;
    const res = await this.client.sendMessage(roomId, { msgtype: MsgType.Notice, body }, txnId);
    return res.event_id;
  }

  // Added for federation (src/federation): thin wrappers over the client-server API.

  /**
   * Joins, allowing for a race of federated invites: the inviting server sends the invite to our
   * homeserver (which tells Loket at once) and persists it on its own side only after our answer,
   * so a join that comes quickly may be told "You are not invited to this room" (403) by the
   * inviting server. Retries a 403 three times within about two seconds.
   */
  private async joinAfterRemoteInvite(roomId: RoomId): Promise<void> {
    for (const delayMs of [250, 500, 1_000, -1]) {
      try {
        await this.client.joinRoom(roomId);
        return;
      } catch (err) {
        if (delayMs < 0 || !(err instanceof MatrixError) || err.httpStatus !== 403) throw err;
        await sleep(delayMs);
      }
    }
  }

  /** POST /createRoom as this bot (body as the spec has it); returns the new room's id. */
  async createRoom(body: Record<string, unknown>): Promise<RoomId> {
    const res = await this.client.http.authedRequest<{ room_id: string }>(Method.Post, "/createRoom", undefined, body);
    return res.room_id as RoomId;
  }

  async invite(roomId: RoomId, user: string): Promise<void> {
    await this.client.http.authedRequest(Method.Post, `/rooms/${encodeURIComponent(roomId)}/invite`, undefined, { user_id: user });
  }

  /** Removes a member, or withdraws an invite. */
  async kick(roomId: RoomId, user: string, reason?: string): Promise<void> {
    const body = reason === undefined ? { user_id: user } : { user_id: user, reason };
    await this.client.http.authedRequest(Method.Post, `/rooms/${encodeURIComponent(roomId)}/kick`, undefined, body);
  }

  /** PUT a state event; returns its event id. */
  async sendStateEvent(roomId: RoomId, type: string, content: Record<string, unknown>, stateKey = ""): Promise<string> {
    const path = `/rooms/${encodeURIComponent(roomId)}/state/${encodeURIComponent(type)}/${encodeURIComponent(stateKey)}`;
    const res = await this.client.http.authedRequest<{ event_id: string }>(Method.Put, path, undefined, content);
    return res.event_id;
  }

  /** The content of one state event of a room the bot is in. */
  async getStateEvent(roomId: RoomId, type: string, stateKey = ""): Promise<Record<string, unknown>> {
    const path = `/rooms/${encodeURIComponent(roomId)}/state/${encodeURIComponent(type)}/${encodeURIComponent(stateKey)}`;
    return this.client.http.authedRequest<Record<string, unknown>>(Method.Get, path);
  }
}

/** Calls made as the appservice itself. */
export class Homeserver {
  private readonly opts: HomeserverOptions;
  private readonly sender: MatrixClient;
  private readonly intents = new Map<string, BotIntent>();

  constructor(opts: HomeserverOptions) {
    this.opts = opts;
    this.sender = createClient({ baseUrl: opts.url, accessToken: opts.asToken, localTimeoutMs: 30_000, logger: sdkLogger(opts.log) });
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

  /** Cuts short every request under way, so that a stop does not wait for a slow homeserver. */
  abortAll(): void {
    this.sender.http.abort();
    for (const intent of this.intents.values()) intent.abort();
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
      const path = `/appservice/${encodeURIComponent(appserviceId)}/ping`;
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
