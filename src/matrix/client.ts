// Loket's calls to the homeserver (client-server API as the appservice). This is the one
// outgoing path: every request goes through the gate (a global concurrency limit, timeouts and
// a circuit breaker), never through matrix-js-sdk's send queue, which sends every room's messages
// in one line and fails them all together. Callers run in their room's lane of the inbox, so
// each room's calls keep their order and a room that waits for a retry holds only itself.
// Messages are recorded in the database around the send (see sends.ts): exactly once as the
// citizen sees it, across crashes and homeserver restarts.
import { textToHtml } from "./html.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { ClientPrefix, createClient, MatrixError, Method, MsgType, type MatrixClient } from "matrix-js-sdk";
import { logger as sdkRootLogger, type Logger as SdkLogger } from "matrix-js-sdk/lib/logger.js";
import type { Database } from "../db/database.ts";
import type { Logger } from "../logging.ts";
import type { RawEvent } from "./events.ts";
import type { HomeserverGate } from "./gate.ts";
import type { RoomId, UserId } from "./ids.ts";
import type { RoomEncryption } from "./room-encryption.ts";
import { findSend, recordAttempt, recordSent, TXN_MARKER, txnIdFor } from "./sends.ts";

export interface HomeserverOptions {
  url: string;
  asToken: string;
  log: Logger;
  gate: HomeserverGate;
  db: Database;
  /** Which rooms are encrypted, and the E2EE engine once it runs. */
  rooms: RoomEncryption;
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
  private readonly rooms: RoomEncryption;

  constructor(opts: HomeserverOptions, userId: UserId, assert: boolean) {
    this.userId = userId;
    this.db = opts.db;
    this.rooms = opts.rooms;
    this.client = sdkClient(opts, assert ? userId : undefined);
  }

  /**
   * Joins, allowing for a race of federated invites: the inviting server sends the invite to our
   * homeserver (which tells Loket at once) and persists it on its own side only after our answer,
   * so a join that comes quickly may be told "You are not invited to this room" (403) by the
   * inviting server. A 403 is tried again three times within about two seconds.
   */
  async join(roomId: RoomId): Promise<void> {
    for (const delayMs of [250, 500, 1_000, -1]) {
      try {
        await this.client.http.authedRequest(Method.Post, `/join/${enc(roomId)}`, undefined, {});
        return;
      } catch (err) {
        if (delayMs < 0 || !(err instanceof MatrixError) || err.httpStatus !== 403) throw err;
        await sleep(delayMs);
      }
    }
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

  /**
   * The room's history as this bot may see it, newest first: up to `pages` pages of 100 events.
   * `complete`: it reaches back to the room's first event.
   */
  async history(roomId: RoomId, pages = 2): Promise<{ events: RawEvent[]; complete: boolean }> {
    const events: RawEvent[] = [];
    let from: string | undefined;
    for (let page = 0; page < pages; page++) {
      const res = await this.client.http.authedRequest<{ chunk?: RawEvent[]; end?: string }>(
        Method.Get, `/rooms/${enc(roomId)}/messages`, { dir: "b", limit: "100", ...(from ? { from } : {}) },
      );
      events.push(...(res.chunk ?? []));
      if (!res.end || (res.chunk ?? []).length === 0 || events.at(-1)?.type === "m.room.create") return { events, complete: true };
      from = res.end;
    }
    return { events, complete: false };
  }

  async setDisplayName(name: string): Promise<void> {
    await this.client.http.authedRequest(Method.Put, `/profile/${enc(this.userId)}/displayname`, undefined, { displayname: name });
  }

  /** Sends an m.notice (automated text: other bots do not answer notices) with a plain and an HTML body, exactly once per cause. */
  sendNotice(roomId: RoomId, body: string, cause: string): Promise<string> {
    return this.send(roomId, "m.room.message", { msgtype: MsgType.Notice, body, format: "org.matrix.custom.html", formatted_body: textToHtml(body) }, cause);
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
      const found = await this.findSent(roomId, known.type, txnId);
      if (found !== undefined) {
        await recordSent(this.db, txnId, found);
        return found;
      }
    }
    // A retried encrypted send repeats its ciphertext: the same event, never a second one.
    const out = known?.content ? { type: known.type, content: known.content, encrypted: true } : await this.prepare(roomId, type, content);
    await recordAttempt(this.db, txnId, this.userId, roomId, out.type, out.encrypted ? out.content : undefined);
    const res = await this.client.http.authedRequest<{ event_id: string }>(
      Method.Put, `/rooms/${enc(roomId)}/send/${enc(out.type)}/${enc(txnId)}`, undefined, { ...out.content, [TXN_MARKER]: txnId },
    );
    await recordSent(this.db, txnId, res.event_id);
    return res.event_id;
  }

  /** The event as it goes out: encrypted in an encrypted room when this bot has a device. */
  private async prepare(roomId: RoomId, type: string, content: Record<string, unknown>): Promise<{ type: string; content: Record<string, unknown>; encrypted: boolean }> {
    const encryptor = this.rooms.encryptor;
    if (!encryptor?.canEncrypt(this.userId)) return { type, content, encrypted: false };
    if (!(await this.rooms.isEncrypted(roomId, () => this.hasEncryptionState(roomId)))) return { type, content, encrypted: false };
    const sealed = await encryptor.encrypt(this.userId, roomId, type, content);
    return { ...sealed, encrypted: true };
  }

  private async hasEncryptionState(roomId: RoomId): Promise<boolean> {
    try {
      await this.client.http.authedRequest(Method.Get, `/rooms/${enc(roomId)}/state/m.room.encryption/`);
      return true;
    } catch (err) {
      if (err instanceof MatrixError && err.httpStatus === 404) return false;
      throw err;
    }
  }


  /** The bot's own recent events of `type` in the room (newest 50), searched for txnId. */
  private async findSent(roomId: RoomId, type: string, txnId: string): Promise<string | undefined> {
    const filter = JSON.stringify({ senders: [this.userId], types: [type] });
    const res = await this.client.http.authedRequest<{ chunk?: { event_id: string; content?: Record<string, unknown> }[] }>(
      Method.Get, `/rooms/${enc(roomId)}/messages`, { dir: "b", limit: "50", filter },
    );
    return res.chunk?.find((ev) => ev.content?.[TXN_MARKER] === txnId)?.event_id;
  }

  // --- Rooms and conversations: administration calls (state, membership, aliases). They are
  // idempotent by nature and go through the gate like every other call.

  /** POST /createRoom; returns the new room's id. */
  async createRoom(body: Record<string, unknown>): Promise<RoomId> {
    const res = await this.client.http.authedRequest<{ room_id: RoomId }>(Method.Post, "/createRoom", undefined, body);
    return res.room_id;
  }

  /** Invites a user; one already joined or invited is fine. */
  async invite(roomId: RoomId, user: string): Promise<void> {
    // In an encrypted room, whoever the bot invites (staff taking a conversation) can read what
    // was said before: the bot shares the room keys it holds with them first (MSC4268).
    const encryptor = this.rooms.encryptor;
    if (encryptor?.canEncrypt(this.userId) && (await this.rooms.isEncrypted(roomId, () => this.hasEncryptionState(roomId)))) {
      await encryptor.shareHistory(this.userId, roomId, user);
    }
    try {
      await this.client.http.authedRequest(Method.Post, `/rooms/${encodeURIComponent(roomId)}/invite`, undefined, { user_id: user });
    } catch (err) {
      if (err instanceof MatrixError && err.errcode === "M_FORBIDDEN" && /already in the room|is already joined/i.test(err.data.error ?? "")) return;
      throw err;
    }
  }

  /** Removes a user from a room (or withdraws their invite). */
  async kick(roomId: RoomId, user: string, reason: string): Promise<void> {
    await this.client.http.authedRequest(Method.Post, `/rooms/${encodeURIComponent(roomId)}/kick`, undefined, { user_id: user, reason });
  }

  async sendState(roomId: RoomId, type: string, stateKey: string, content: object): Promise<string> {
    const path = `/rooms/${encodeURIComponent(roomId)}/state/${encodeURIComponent(type)}/${encodeURIComponent(stateKey)}`;
    const res = await this.client.http.authedRequest<{ event_id: string }>(Method.Put, path, undefined, content);
    return res.event_id;
  }

  /** The content of a state event, or undefined when the room has none. */
  async getState<T extends object>(roomId: RoomId, type: string, stateKey: string): Promise<T | undefined> {
    const path = `/rooms/${encodeURIComponent(roomId)}/state/${encodeURIComponent(type)}/${encodeURIComponent(stateKey)}`;
    try {
      return await this.client.http.authedRequest<T>(Method.Get, path);
    } catch (err) {
      if (err instanceof MatrixError && err.errcode === "M_NOT_FOUND") return undefined;
      throw err;
    }
  }

  /** Publishes a room in (or takes it out of) the homeserver's room directory. */
  async setDirectoryVisibility(roomId: RoomId, visibility: "public" | "private"): Promise<void> {
    await this.client.http.authedRequest(Method.Put, `/directory/list/room/${encodeURIComponent(roomId)}`, undefined, { visibility });
  }

  /** Points alias at roomId; an alias that already points there is fine. */
  async createAlias(alias: string, roomId: RoomId): Promise<void> {
    try {
      await this.client.http.authedRequest(Method.Put, `/directory/room/${encodeURIComponent(alias)}`, undefined, { room_id: roomId });
    } catch (err) {
      if (err instanceof MatrixError && err.httpStatus === 409 && (await this.resolveAlias(alias)) === roomId) return;
      throw err;
    }
  }

  async deleteAlias(alias: string): Promise<void> {
    await this.client.http.authedRequest(Method.Delete, `/directory/room/${encodeURIComponent(alias)}`);
  }

  async resolveAlias(alias: string): Promise<RoomId | undefined> {
    try {
      const res = await this.client.http.authedRequest<{ room_id: RoomId }>(Method.Get, `/directory/room/${encodeURIComponent(alias)}`);
      return res.room_id;
    } catch (err) {
      if (err instanceof MatrixError && err.errcode === "M_NOT_FOUND") return undefined;
      throw err;
    }
  }

  /** A user's display name from their profile, or undefined when they have none. */
  async getDisplayName(user: string): Promise<string | undefined> {
    try {
      const res = await this.client.http.authedRequest<{ displayname?: string }>(Method.Get, `/profile/${encodeURIComponent(user)}/displayname`);
      return res.displayname;
    } catch (err) {
      if (err instanceof MatrixError && err.errcode === "M_NOT_FOUND") return undefined;
      throw err;
    }
  }

  /** Sends an m.room.message (plain or with HTML) exactly once per cause (see send). */
  sendMessage(roomId: RoomId, content: { msgtype: string; body: string; format?: string; formatted_body?: string }, cause: string): Promise<string> {
    return this.send(roomId, "m.room.message", content, cause);
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

  /** A fetch through the gate, for calls the SDK does not make (archive media downloads). */
  readonly fetch = (input: URL, init: RequestInit): Promise<Response> => this.opts.gate.fetch(input, init);

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
