// Commands as data: each command names itself, its aliases, its arguments, its help text, who
// may use it where, and its executor. Parsing, permission and help all come from the table, in
// one place, so that later capabilities (office hours: !status, !dienst, !wachtrij, !overdragen,
// !sluiten, !wachten, !categorie) only add rows.
import { t, type Language, type TextKey } from "../i18n/index.ts";

export type Role = "citizen" | "staff";
/** The kind of room a command is typed in. */
export type Place = "conversation" | "service_desk" | "department";

export interface Command<C> {
  name: string;
  aliases?: readonly string[];
  /** Argument names for the usage line, for example ["KENMERK"]. */
  args?: readonly string[];
  /** How many arguments it needs at least (default: all of args). */
  minArgs?: number;
  help: TextKey;
  roles: readonly Role[];
  places: readonly Place[];
  run(ctx: C, args: string[]): Promise<void>;
}

export interface Parsed {
  name: string;
  args: string[];
}

/** "!Neem utr-2026-000001" -> { name: "neem", args: ["utr-2026-000001"] }; undefined for plain text. */
export function parseCommand(body: string): Parsed | undefined {
  const text = body.trim();
  if (!/^![A-Za-z]/.test(text)) return undefined;
  const [head = "", ...args] = text.slice(1).split(/\s+/);
  return { name: head.toLowerCase(), args };
}

export type Decision<C> =
  | { kind: "run"; command: Command<C> }
  | { kind: "unknown" }
  | { kind: "staff_only"; command: Command<C> }
  | { kind: "wrong_place"; command: Command<C> }
  | { kind: "usage"; command: Command<C> };

export class CommandTable<C> {
  private readonly byName = new Map<string, Command<C>>();
  readonly commands: readonly Command<C>[];

  constructor(commands: readonly Command<C>[]) {
    this.commands = commands;
    for (const c of commands) {
      for (const name of [c.name, ...(c.aliases ?? [])]) {
        const key = name.toLowerCase();
        const other = this.byName.get(key);
        if (other) throw new Error(`command !${key} is claimed by both '${other.name}' and '${c.name}'`);
        this.byName.set(key, c);
      }
    }
  }

  /** What to do with a parsed command from someone with `role` in a room of kind `place`. */
  decide(parsed: Parsed, role: Role, place: Place): Decision<C> {
    const command = this.byName.get(parsed.name);
    if (!command) return { kind: "unknown" };
    if (!command.roles.includes(role)) return { kind: "staff_only", command };
    if (!command.places.includes(place)) return { kind: "wrong_place", command };
    if (parsed.args.length < (command.minArgs ?? command.args?.length ?? 0)) return { kind: "usage", command };
    return { kind: "run", command };
  }

  usage(c: Command<C>): string {
    return [`!${c.name}`, ...(c.args ?? [])].join(" ");
  }

  /** The help for this role in this kind of room, generated from the table. */
  help(lang: Language, role: Role, place: Place): string {
    const usable = this.commands.filter((c) => c.roles.includes(role) && c.places.includes(place));
    if (usable.length === 0) return t(lang, "help_none");
    const lines = usable.map((c) => {
      const aliases = (c.aliases ?? []).map((a) => ` (!${a})`).join("");
      return `- ${this.usage(c)}${aliases}: ${t(lang, c.help)}`;
    });
    return [t(lang, "help_header"), ...lines].join("\n");
  }
}
