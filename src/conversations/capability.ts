// Conversations as a capability: messages in Loket's rooms are parsed for commands (in one
// place, from the command table); a citizen writing in a closed conversation reopens it; staff
// joining a conversation are introduced to the citizen by display name. Notices and other bots
// are never answered, so bots cannot loop.
import type { Config } from "../config/schema.ts";
import { EventFailures, type Capability, type HookResult } from "../core/capability.ts";
import type { Database } from "../db/database.ts";
import { CommandTable, parseCommand, type Command, type Parsed, type Place } from "../commands/table.ts";
import { t, type TextKey } from "../i18n/index.ts";
import type { Logger } from "../logging.ts";
import type { Homeserver } from "../matrix/client.ts";
import type { MembershipEvent, MessageEvent } from "../matrix/events.ts";
import type { PlainMessage } from "../queue/plan.ts";
import type { Municipalities, Municipality } from "../tenants/municipalities.ts";
import type { RetryPolicy } from "../util/retry.ts";
import { conversationCommands, type CommandContext } from "./commands.ts";
import { RoomDirectory, type RoomFacts } from "./directory.ts";
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
  /** How the listener retries a step that failed for a passing reason; default: no retry. */
  retry?: (capability: string) => RetryPolicy;
}

const NO_RETRY: RetryPolicy = { isTransient: () => false, signal: new AbortController().signal, firstDelayMs: 0, maxDelayMs: 0 };

/**
 * What hears of plain (non-command) messages in a conversation: a room's run of them, in order,
 * at the end of its batch (or before a command in the room). Returns the events whose step
 * failed for good; throws Interrupted when Loket stops.
 */
export interface ConversationListener {
  wrote(m: Municipality, conv: Conversation, messages: readonly PlainMessage[], retry: RetryPolicy): Promise<Map<string, unknown>>;
}

/** A room's plain messages not yet told to the listener, with the conversation as the first of them found it. */
interface Run { municipality: Municipality; conversation: Conversation; messages: PlainMessage[] }

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
  const contextOf = (roomId: string): RoomContext | undefined | Promise<RoomContext | undefined> => {
    // A room's conversation may have changed (closed by another process): read once per batch,
    // after it began, together with the other rooms' (so that their batches go on together).
    // A room without one is not read again: only a write drops that answer (see the directory).
    // Loket's own changes during the batch drop the directory's answer, and are read again.
    // Known at once (no promise) when the kept answer will do.
    const freshness = readInBatch.has(roomId) ? "kept" : "status";
    readInBatch.add(roomId);
    return directory.answer(roomId, freshness, contextFrom);
  };
  const contextFrom = (facts: RoomFacts): RoomContext | undefined => {
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
  const isBot = (user: string): boolean => d.municipalities.isLoketUser(user);

  /** Each room's plain messages of the batch under way, told to the queue together (flush). */
  const runs = new Map<string, Run>();
  /** Each room's events whose queue step failed for good in the batch under way. */
  const failed = new Map<string, Map<string, unknown>>();
  const addToRun = (m: Municipality, conv: Conversation, roomId: string, msg: PlainMessage): void => {
    const run = runs.get(roomId);
    if (run) run.messages.push(msg);
    else runs.set(roomId, { municipality: m, conversation: conv, messages: [msg] });
  };
  /** Tells the queue of the room's messages so far: at the end of the batch, and before anything else acts on the room. */
  const flush = async (roomId: string): Promise<void> => {
    const run = runs.get(roomId);
    if (!run || !d.queue) return;
    runs.delete(roomId);
    const failures = await d.queue.wrote(run.municipality, run.conversation, run.messages, d.retry?.("conversations") ?? NO_RETRY);
    if (failures.size === 0) return;
    const mine = failed.get(roomId) ?? new Map<string, unknown>();
    for (const [eventId, err] of failures) mine.set(eventId, err);
    failed.set(roomId, mine);
  };

  /** The citizen asked something (reopening a closed conversation), or staff answered: added to the room's run at once. */
  const plainMessage = (m: Municipality, conv: Conversation, ev: MessageEvent): HookResult => {
    if (ev.sender === conv.citizen) {
      if (conv.status === "closed") return reopening(m, conv, ev);
      if (d.queue) addToRun(m, conv, ev.roomId, { kind: "citizen", eventId: ev.eventId, reopened: false });
    } else if (m.staff.has(ev.sender) && conv.status !== "closed") {
      if (d.queue) addToRun(m, conv, ev.roomId, { kind: "staff", eventId: ev.eventId, staff: ev.sender });
    }
    return undefined;
  };

  /** The citizen wrote in a closed conversation: reopened, and told to the queue at once. */
  const reopening = async (m: Municipality, conv: Conversation, ev: MessageEvent): Promise<void> => {
    await flush(ev.roomId);
    const reopened = await d.conversations.reopen(m, conv, ev.eventId, d.queue === undefined);
    if (!reopened) return;
    conv.status = "open";
    if (!d.queue) return;
    addToRun(m, conv, ev.roomId, { kind: "citizen", eventId: ev.eventId, reopened });
    // A reopening is decided at once: what the room's later messages see is an open conversation.
    await flush(ev.roomId);
  };

  return {
    name: "conversations",
    endBatch(roomId, outcome) {
      readInBatch.delete(roomId);
      if (outcome === "interrupted") {
        // Not done: the batch runs again at the next start.
        runs.delete(roomId);
        failed.delete(roomId);
        return undefined;
      }
      return runs.has(roomId) || failed.has(roomId) ? endRun(roomId) : undefined;
    },
    // Messages act only in rooms with a conversation or of a municipality; joins act anywhere.
    ignores: (roomId, events) => events.every((e) => e.type !== "m.room.member") && directory.knowsNothingOf(roomId),
    onMessage(ev: MessageEvent) {
      // Notices and other bots are never answered; an edit is not a new message.
      if (ev.msgtype === "m.notice" || isBot(ev.sender) || isEdit(ev)) return undefined;
      const parsed = parseCommand(ev.body);
      const ctx = contextOf(ev.roomId);
      return ctx instanceof Promise ? ctx.then((c) => onMessageIn(ev, parsed, c)) : onMessageIn(ev, parsed, ctx);
    },
    onMembership(ev: MembershipEvent) {
      const before = (ev.raw.unsigned as { prev_content?: { membership?: string } } | undefined)?.prev_content?.membership;
      if (ev.membership !== "join" || before === "join" || isBot(ev.target)) return undefined;
      return staffJoined(ev);
    },
  };

  /** The batch's run told to the queue; its failures thrown as the events'. */
  async function endRun(roomId: string): Promise<void> {
    let failures: Map<string, unknown> | undefined;
    try {
      await flush(roomId);
    } finally {
      failures = failed.get(roomId);
      runs.delete(roomId);
      failed.delete(roomId);
    }
    if (failures) throw new EventFailures(failures);
  }

  /** A message in a room whose context is known: a plain one joins the room's run at once, a command runs. */
  function onMessageIn(ev: MessageEvent, parsed: Parsed | undefined, ctx: RoomContext | undefined): HookResult {
    if (!ctx) return undefined;
    if (parsed) return command(ev, parsed, ctx);
    return ctx.conversation ? plainMessage(ctx.municipality, ctx.conversation, ev) : undefined;
  }

  async function command(ev: MessageEvent, parsed: Parsed, ctx: RoomContext): Promise<void> {
    const { municipality, conversation } = ctx;
    // The queue hears of the messages before the command (a !status after a question sees it).
    await flush(ev.roomId);
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
  }

  /** Staff joined a conversation: the room is told who joined for the municipality. */
  async function staffJoined(ev: MembershipEvent): Promise<void> {
    const conv = await conversationByRoom(d.database, ev.roomId);
    if (!conv || ev.target === conv.citizen) return;
    const m = d.municipalities.all.find((x) => x.id === conv.municipality);
    if (!m?.staff.has(ev.target)) return;
    const bot = d.homeserver.intent(m.botUserId);
    const name = (await bot.getDisplayName(ev.target)) ?? ev.target;
    await bot.sendNotice(ev.roomId, t(conv.language, "staff_joined", { staff: name, name: m.name }), `joined:${ev.eventId}`);
  }
}
