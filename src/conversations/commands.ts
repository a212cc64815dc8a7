// The commands of conversations, as rows of the command table.
import { t, type Language } from "../i18n/index.ts";
import type { EventId, RoomId, UserId } from "../matrix/ids.ts";
import type { Command, CommandTable, Place, Role } from "../commands/table.ts";
import type { Municipality } from "../tenants/municipalities.ts";
import { normaliseReference } from "./reference.ts";
import type { Conversations } from "./service.ts";
import type { Conversation } from "./store.ts";

/** What a command's executor gets: where it was typed, by whom, and how to answer. */
export interface CommandContext {
  municipality: Municipality;
  roomId: RoomId;
  sender: UserId;
  eventId: EventId;
  role: Role;
  place: Place;
  lang: Language;
  conversation?: Conversation;
  /** The department of a department room. */
  department?: string;
  table: CommandTable<CommandContext>;
  reply(text: string): Promise<void>;
}

export function conversationCommands(conversations: Conversations): Command<CommandContext>[] {
  return [
    {
      name: "help",
      help: "help_help",
      roles: ["citizen", "staff"],
      places: ["conversation", "service_desk", "department"],
      run: (ctx) => ctx.reply(ctx.table.help(ctx.lang, ctx.role, ctx.place)),
    },
    {
      name: "gesprek",
      aliases: ["start"],
      help: "help_gesprek",
      roles: ["citizen", "staff"],
      places: ["service_desk"],
      run: (ctx) => conversations.startFromDesk(ctx.municipality, ctx.roomId, ctx.sender, ctx.eventId),
    },
    {
      name: "taal",
      args: ["nl|en"],
      help: "help_taal",
      roles: ["citizen", "staff"],
      places: ["conversation"],
      async run(ctx, [choice]) {
        const lang = choice?.toLowerCase();
        if ((lang !== "nl" && lang !== "en") || !ctx.conversation) {
          await ctx.reply(t(ctx.lang, "usage", { usage: "!taal nl | !taal en" }));
          return;
        }
        await conversations.setLanguage(ctx.conversation, lang);
        await ctx.reply(t(lang, "language_set"));
      },
    },
    {
      name: "neem",
      args: ["KENMERK"],
      help: "help_neem",
      roles: ["staff"],
      places: ["department"],
      async run(ctx, [typed = ""]) {
        const reference = normaliseReference(typed) ?? typed.toUpperCase();
        const conv = await conversations.take(ctx.municipality, reference, ctx.sender);
        if (!conv?.roomId) {
          await ctx.reply(t(ctx.lang, "unknown_reference", { reference, name: ctx.municipality.name }));
          return;
        }
        await ctx.reply(t(ctx.lang, "taken", { reference: conv.reference, link: conversations.link(conv.roomId) }));
      },
    },
  ];
}
