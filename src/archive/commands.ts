// The archive's commands, as rows of the conversations' command table (wired in
// src/capabilities.ts through extraCommands): `!categorie <name>` sets the archive category of
// the conversation it is typed in. The category is stored in archive_conversations (the row that
// retention, destruction lists and the MDTO export read) and the change is written to the audit
// log. Without one, the department's archive_category applies, else archive.default_category.
import type { Command } from "../commands/table.ts";
import type { Config } from "../config/schema.ts";
import type { CommandContext } from "../conversations/commands.ts";
import type { Database } from "../db/database.ts";
import { t } from "../i18n/index.ts";
import { audit } from "./audit.ts";
import type { ArchiveCategory } from "./config.ts";

/** A category by id or by name, case-insensitive (names may hold spaces: the args are joined). */
export function findCategory(categories: readonly ArchiveCategory[], typed: string): ArchiveCategory | undefined {
  const want = typed.trim().replace(/\s+/g, " ").toLowerCase();
  return categories.find((c) => c.id.toLowerCase() === want) ?? categories.find((c) => c.name.toLowerCase() === want);
}

/** Sets a conversation's category (creating its archive row when nothing of it is archived yet). */
export async function setCategory(db: Database, c: { conversation: string; municipality: string; roomId: string; reference: string | null; citizen: string | null; category: string }): Promise<void> {
  await db.query(
    `INSERT INTO archive_conversations (conversation, municipality, room_id, reference, citizen, category, opened_at, last_at)
     VALUES ($1, $2, $3, $4, $5, $6, now(), now())
     ON CONFLICT (conversation) DO UPDATE SET category = EXCLUDED.category`,
    [c.conversation, c.municipality, c.roomId, c.reference, c.citizen, c.category],
  );
}

export function archiveCommands(deps: { config: Config; db: Database }): Command<CommandContext>[] {
  const { config, db } = deps;
  return [
    {
      name: "categorie",
      aliases: ["category"],
      args: ["NAAM"],
      minArgs: 1,
      help: "help_categorie",
      roles: ["staff"],
      places: ["conversation"],
      async run(ctx, args) {
        const typed = args.join(" ");
        const found = findCategory(config.archive.categories, typed);
        if (!found || !ctx.conversation) {
          const list = config.archive.categories.map((c) => `${c.id} (${c.name})`).join(", ");
          await ctx.reply(t(ctx.lang, "category_unknown", { name: typed, list }));
          return;
        }
        // The archive keys a conversation by its room (see src/archive/capture.ts).
        const conversation = ctx.roomId as string;
        await setCategory(db, {
          conversation, municipality: ctx.municipality.id, roomId: ctx.roomId, reference: ctx.conversation.reference,
          citizen: ctx.conversation.citizen, category: found.id,
        });
        await audit(db, { actor: ctx.sender, action: "archive.category", object: conversation, result: found.id }, `matrix ${ctx.eventId}`);
        const term = found.valuation === "B" ? t(ctx.lang, "category_kept") : t(ctx.lang, "category_term", { years: String(found.retention_years) });
        await ctx.reply(t(ctx.lang, "category_set", { reference: ctx.conversation.reference, name: found.name, term }));
      },
    },
  ];
}
