// Conversations as a capability: messages in Loket's rooms are parsed for commands (in one
// place, from the command table); a citizen writing in a closed conversation reopens it; staff
// joining a conversation are introduced to the citizen by display name. Notices and other bots
// are never answered, so bots cannot loop.
import type { Config } from "../config/schema.ts";
import type { Capability } from "../core/capability.ts";
import type { Database } from "../db/database.ts";
import { CommandTable, parseCommand, type Command, type Place } from "../commands/table.ts";
import { t, type TextKey } from "../i18n/index.ts";
import type { Logger } from "../logging.ts";
import type { Homeserver } from "../matrix/client.ts";
import type { MembershipEvent, MessageEvent } from "../matrix/events.ts";
import type { Municipalities, Municipality } from "../tenants/municipalities.ts";
import { conversationCommands, type CommandContext } from "./commands.ts";
import { RoomDirectory } from "./directory.ts";
import type { Conversations } from "./service.ts";
import { conversationByRoom, type Conversation } from "./store.ts";

export interface ConversationCapabilityDeps {
  config: Config;
  database: Database;
  municipalities: Municipalities;
  homeserver: Homeserver;
  conversations: Conversations;
  log: Logger;
  /** What each room is, shared with the archive; default: a directory of its own. */
  directory?: RoomDirectory;
  /** Commands of later capabilities (office hours), added to the same table. */
  extraCommands?: Command<CommandContext>[];
  /** The service queue: told when the citizen or staff write in a conversation. */
  queue?: ConversationListener;
}

/** What hears of plain (non-command) messages in a conversation. */
export interface ConversationListener {
  citizenWrote(m: Municipality, conv: Conversation, eventId: string, reopened: boolean): Promise<void>;
  staffWrote(conv: Conversation, staff: string): Promise<void>;
}

interface RoomContext {
  municipality: Municipality;
  place: Place;
  conversation?: Conversation;
  /** The department of a department room. */
  department?: string;
}

/** An edit (m.replace); in encrypted rooms the relation may sit only outside the ciphertext, m.new_content inside it. */
const isEdit = (ev: MessageEvent): boolean => {
  const content = ev.raw.content as { "m.relates_to"?: { rel_type?: string }; "m.new_content"?: unknown } | undefined;
  return content?.["m.relates_to"]?.rel_type === "m.replace" || content?.["m.new_content"] !== undefined;
};


export function conversationsCapability(d: ConversationCapabilityDeps): Capability {
  const table = new CommandTable<CommandContext>([...conversationCommands(d.conversations), ...(d.extraCommands ?? [])]);

  const directory = d.directory ?? new RoomDirectory(d.database);
  /** Rooms whose conversation was read during their batch under way (see endBatch). */
  const readInBatch = new Set<string>();
  const contextOf = async (roomId: string): Promise<RoomContext | undefined> => {
    // A room's conversation may have changed (closed by another process): read once per batch,
    // after it began, together with the other rooms' (so that their batches go on together).
    // Loket's own changes during the batch drop the directory's answer, and are read again.
    const facts = await directory.lookup(roomId, !readInBatch.has(roomId));
    readInBatch.add(roomId);
    if (facts.conversation) {
      // A copy: the directory's answer is shared, and the handlers change theirs.
      const conversation: Conversation = { ...facts.conversation, assigned: [...facts.conversation.assigned] };
      const municipality = d.municipalities.all.find((m) => m.id === conversation.municipality);
      return municipality && { municipality, place: "conversation", conversation };
    }
    const managed = facts.managed;
    if (!managed || managed.kind === "space") return undefined;
    const municipality = d.municipalities.all.find((m) => m.id === managed.municipality);
    return municipality && { municipality, place: managed.kind, ...(managed.department ? { department: managed.department } : {}) };
  };

  /** Virtual (bridged) users and Loket's own bots are not people to answer. */
  const isBot = (user: string): boolean =>
    d.municipalities.isOwnBot(user) || user.startsWith(`@${d.config.appservice.user_prefix}`);

  /** The citizen asked something (reopening a closed conversation), or staff answered. */
  const plainMessage = async (m: Municipality, conv: Conversation, ev: MessageEvent): Promise<void> => {
    if (ev.sender === conv.citizen) {
      let reopened = false;
      if (conv.status === "closed") {
        reopened = await d.conversations.reopen(m, conv, ev.eventId, d.queue === undefined);
        if (!reopened) return;
        conv.status = "open";
      }
      await d.queue?.citizenWrote(m, conv, ev.eventId, reopened);
    } else if (m.staff.has(ev.sender) && conv.status !== "closed") {
      await d.queue?.staffWrote(conv, ev.sender);
    }
  };

  return {
    name: "conversations",
    endBatch(roomId) {
      readInBatch.delete(roomId);
      return Promise.resolve();
    },
    async onMessage(ev: MessageEvent) {
      // Notices and other bots are never answered; an edit is not a new message.
      if (ev.msgtype === "m.notice" || isBot(ev.sender) || isEdit(ev)) return;
      const parsed = parseCommand(ev.body);
      const ctx = await contextOf(ev.roomId);
      if (!ctx) return;
      const { municipality, conversation } = ctx;
      if (!parsed) {
        if (conversation) await plainMessage(municipality, conversation, ev);
        return;
      }
      const role = municipality.staff.has(ev.sender) ? "staff" : "citizen";
      const lang = conversation?.language ?? municipality.config.language;
      const bot = d.homeserver.intent(municipality.botUserId);
      const reply = (text: string): Promise<void> => bot.sendNotice(ev.roomId, text, `reply:${ev.eventId}`).then(() => undefined);
      const decision = table.decide(parsed, role, ctx.place);
      const refusal: Record<string, TextKey> = { unknown: "unknown_command", staff_only: "staff_only", wrong_place: "wrong_room" };
      if (decision.kind === "run") {
        d.log.info({ roomId: ev.roomId, command: decision.command.name, role }, "command");
        await decision.command.run({ ...ctx, roomId: ev.roomId, sender: ev.sender, eventId: ev.eventId, role, lang, table, reply }, parsed.args);
      } else if (decision.kind === "usage") {
        await reply(t(lang, "usage", { usage: table.usage(decision.command) }));
      } else {
        await reply(t(lang, refusal[decision.kind] ?? "unknown_command", { command: parsed.name }));
      }
    },
    async onMembership(ev: MembershipEvent) {
      const before = (ev.raw.unsigned as { prev_content?: { membership?: string } } | undefined)?.prev_content?.membership;
      if (ev.membership !== "join" || before === "join" || isBot(ev.target)) return;
      const conv = await conversationByRoom(d.database, ev.roomId);
      if (!conv || ev.target === conv.citizen) return;
      const m = d.municipalities.all.find((x) => x.id === conv.municipality);
      if (!m?.staff.has(ev.target)) return;
      const bot = d.homeserver.intent(m.botUserId);
      const name = (await bot.getDisplayName(ev.target)) ?? ev.target;
      await bot.sendNotice(ev.roomId, t(conv.language, "staff_joined", { staff: name, name: m.name }), `joined:${ev.eventId}`);
    },
  };
}
