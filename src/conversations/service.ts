// Conversations: one room per conversation, with a reference number, its status in the database
// and in nl.loket.room, and the department told. A citizen's DM with the bot is the conversation
// when the bot has the power to run it there; otherwise (and for !gesprek in the service desk)
// Loket creates a room of its own and invites the citizen. Every step can run again after a
// crash: sends carry stable causes, state writes are idempotent.
import type { Config } from "../config/schema.ts";
import type { Database } from "../db/database.ts";
import type { Metrics } from "../http/metrics.ts";
import { t, type Language } from "../i18n/index.ts";
import type { Logger } from "../logging.ts";
import type { BotIntent, Homeserver } from "../matrix/client.ts";
import type { RoomId } from "../matrix/ids.ts";
import { LOKET_ROOM_EVENT, powerLevelsContent, referencePrefix, ROOM_VERSION } from "../rooms/plan.ts";
import { managedRoomByKey } from "../rooms/store.ts";
import type { Municipality } from "../tenants/municipalities.ts";
import { conversationByReference, createConversation, openConversationOf, updateConversation, type Conversation } from "./store.ts";
import { botCanHost, firstMessageText, loketRoomContent, matrixTo } from "./texts.ts";

export interface ConversationDeps {
  config: Config;
  db: Database;
  hs: Homeserver;
  metrics: Metrics;
  log: Logger;
}

export class Conversations {
  private readonly d: ConversationDeps;

  constructor(deps: ConversationDeps) {
    this.d = deps;
  }

  private bot(m: Municipality): BotIntent {
    return this.d.hs.intent(m.botUserId);
  }

  link(roomId: string): string {
    return matrixTo(roomId, this.d.config.homeserver.domain);
  }

  private department(m: Municipality): string {
    return m.config.default_department !== "" ? m.config.default_department : (m.config.departments[0]?.id ?? "");
  }

  private create(m: Municipality, citizen: string, roomId: RoomId | null, dmRoomId: RoomId | null): Promise<Conversation | undefined> {
    return createConversation(this.d.db, {
      municipality: m.id, prefix: referencePrefix(m.config), citizen, roomId, dmRoomId,
      department: this.department(m), language: m.config.language,
    });
  }

  /** A citizen opened a DM with the bot (the bot has joined it). */
  async startFromDm(m: Municipality, dmRoomId: RoomId, citizen: string, cause: string): Promise<void> {
    const existing = await openConversationOf(this.d.db, m.id, citizen);
    if (existing && existing.roomId !== dmRoomId && existing.dmRoomId !== dmRoomId) {
      await this.sendBack(m, existing, dmRoomId, "existing_conversation", `back:${cause}`);
      return;
    }
    let conv = existing;
    if (!conv) {
      const bot = this.bot(m);
      const [create, power] = await Promise.all([
        bot.getState<{ room_version?: string }>(dmRoomId, "m.room.create", ""),
        bot.getState<object>(dmRoomId, "m.room.power_levels", ""),
      ]);
      const hostable = botCanHost(create, power, m.botUserId);
      conv = await this.create(m, citizen, hostable ? dmRoomId : null, hostable ? null : dmRoomId);
      if (!conv) return this.startFromDm(m, dmRoomId, citizen, cause); // lost a race with another DM
      this.d.log.info({ municipality: m.id, reference: conv.reference, roomId: dmRoomId, inDm: hostable }, "conversation opened from a DM");
    }
    await this.finish(m, conv);
  }

  /** !gesprek in the service desk. */
  async startFromDesk(m: Municipality, deskRoomId: RoomId, citizen: string, cause: string): Promise<void> {
    const existing = await openConversationOf(this.d.db, m.id, citizen);
    if (existing?.roomId) {
      await this.bot(m).invite(existing.roomId, citizen);
      await this.sendBack(m, existing, deskRoomId, "desk_existing", `back:${cause}`);
      return;
    }
    const conv = existing ?? (await this.create(m, citizen, null, null));
    if (!conv) return this.startFromDesk(m, deskRoomId, citizen, cause);
    await this.finish(m, conv);
    await this.bot(m).sendNotice(deskRoomId, t(m.config.language, "desk_invited", { name: m.name }), `desk:${cause}`);
  }

  private async sendBack(m: Municipality, conv: Conversation, roomId: RoomId, key: "existing_conversation" | "desk_existing", cause: string): Promise<void> {
    this.d.metrics.conversations.inc({ event: "reused" });
    const text = t(conv.language, key, { name: m.name, reference: conv.reference, link: this.link(conv.roomId ?? roomId) });
    await this.bot(m).sendNotice(roomId, text, cause);
  }

  /** The steps after a conversation is recorded; each is safe to repeat. */
  private async finish(m: Municipality, conv: Conversation): Promise<void> {
    const bot = this.bot(m);
    let roomId = conv.roomId;
    if (roomId === null) {
      roomId = await this.createRoom(m, conv);
      await updateConversation(this.d.db, conv.id, { roomId });
      this.d.metrics.conversations.inc({ event: "opened_room" });
    } else {
      await bot.sendState(roomId, LOKET_ROOM_EVENT, "", loketRoomContent(conv));
      await bot.sendState(roomId, "m.room.topic", "", { topic: t(conv.language, "conversation_topic", { name: m.name, reference: conv.reference }) });
      this.d.metrics.conversations.inc({ event: "opened" });
    }
    await bot.sendNotice(roomId, firstMessageText(m, conv.reference, conv.language), `first:${conv.reference}`);
    if (conv.dmRoomId) {
      await bot.sendNotice(conv.dmRoomId, t(conv.language, "moved_to_room", { reference: conv.reference, link: this.link(roomId) }), `moved:${conv.reference}`);
    }
    await this.tellDepartment(m, { ...conv, roomId }, "department_notice", `dept:${conv.reference}`);
  }

  private async createRoom(m: Municipality, conv: Conversation): Promise<RoomId> {
    const initialState: Record<string, unknown>[] = [{ type: LOKET_ROOM_EVENT, state_key: "", content: loketRoomContent(conv) }];
    // Encrypted from the start whenever the bots speak E2EE (crypto.enabled).
    if (this.d.config.crypto.enabled && this.d.config.conversations.encrypt_new_rooms) {
      initialState.push({ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } });
    }
    return this.bot(m).createRoom({
      room_version: ROOM_VERSION,
      preset: "private_chat",
      is_direct: true,
      invite: [conv.citizen],
      name: t(conv.language, "conversation_name", { name: m.name, reference: conv.reference }),
      topic: t(conv.language, "conversation_topic", { name: m.name, reference: conv.reference }),
      power_level_content_override: powerLevelsContent({}),
      initial_state: initialState,
    });
  }

  async tellDepartment(m: Municipality, conv: Conversation, key: "department_notice" | "department_notice_reopened", cause: string): Promise<void> {
    if (conv.department === "" || !conv.roomId) return;
    const room = await managedRoomByKey(this.d.db, m.id, `department:${conv.department}`);
    if (!room) {
      this.d.log.warn({ municipality: m.id, department: conv.department }, "the department has no room yet; staff were not told of the conversation");
      return;
    }
    const text = t(m.config.language, key, { reference: conv.reference, citizen: conv.citizen, link: this.link(conv.roomId) });
    await this.bot(m).sendNotice(room.roomId, text, cause);
  }

  /** A citizen wrote in a closed conversation: it opens again. */
  async reopen(m: Municipality, conv: Conversation, cause: string, announce = true): Promise<boolean> {
    if (!conv.roomId) return false;
    const other = await openConversationOf(this.d.db, m.id, conv.citizen);
    if (other && other.id !== conv.id) {
      await this.sendBack(m, other, conv.roomId, "existing_conversation", `back:${cause}`);
      return false;
    }
    const reopened: Conversation = { ...conv, status: "open" };
    await this.bot(m).sendState(conv.roomId, LOKET_ROOM_EVENT, "", loketRoomContent(reopened));
    // With the service queue (announce false), the queue records the reopening together with the
    // question, and its receipt says the conversation opened again (one answer).
    if (announce) {
      await updateConversation(this.d.db, conv.id, { status: "open" });
      await this.bot(m).sendNotice(conv.roomId, t(conv.language, "reopened", { reference: conv.reference }), `reopen:${cause}`);
    }
    await this.tellDepartment(m, reopened, "department_notice_reopened", `reopen-dept:${cause}`);
    this.d.metrics.conversations.inc({ event: "reopened" });
    return true;
  }

  /** !neem: invites the staff member, gives them power and marks them assigned. */
  async take(m: Municipality, reference: string, staff: string): Promise<Conversation | undefined> {
    const conv = await conversationByReference(this.d.db, m.id, reference);
    if (!conv?.roomId) return undefined;
    await this.admit(m, conv.roomId, staff);
    if (!conv.assigned.includes(staff)) await updateConversation(this.d.db, conv.id, { assigned: [...conv.assigned, staff] });
    this.d.metrics.conversations.inc({ event: "taken" });
    return conv;
  }

  /** Lets a staff member into a conversation room: power 50, then an invite. Safe to repeat. */
  async admit(m: Municipality, roomId: RoomId, staff: string): Promise<void> {
    const bot = this.bot(m);
    // Power levels are read, changed and written whole: one change per room at a time in this
    // process (!neem runs in the department room's lane, an assignment in the scheduler), so
    // that two staff members let in at once both keep their level.
    await this.oneAtATime(roomId, async () => {
      const power = (await bot.getState<{ users?: Record<string, number> }>(roomId, "m.room.power_levels", "")) ?? {};
      if ((power.users?.[staff] ?? 0) < 50) {
        await bot.sendState(roomId, "m.room.power_levels", "", { ...power, users: { ...power.users, [staff]: 50 } });
      }
    });
    await bot.invite(roomId, staff);
  }

  private readonly powerChanges = new Map<string, Promise<void>>();

  private oneAtATime(roomId: string, fn: () => Promise<void>): Promise<void> {
    const run = (this.powerChanges.get(roomId) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    this.powerChanges.set(roomId, tail);
    void tail.then(() => { if (this.powerChanges.get(roomId) === tail) this.powerChanges.delete(roomId); });
    return run;
  }

  async setLanguage(conv: Conversation, language: Language): Promise<void> {
    await updateConversation(this.d.db, conv.id, { language });
  }
}
