import { describe, expect, it } from "vitest";
import { CommandTable, parseCommand, type Command } from "../../src/commands/table.ts";
import { normaliseReference, formatReference } from "../../src/conversations/reference.ts";
import { botCanHost } from "../../src/conversations/texts.ts";

const noop = (): Promise<void> => Promise.resolve();
const rows: Command<null>[] = [
  { name: "help", help: "help_help", roles: ["citizen", "staff"], places: ["conversation", "service_desk", "department"], run: noop },
  { name: "gesprek", aliases: ["start"], help: "help_gesprek", roles: ["citizen", "staff"], places: ["service_desk"], run: noop },
  { name: "neem", args: ["KENMERK"], help: "help_neem", roles: ["staff"], places: ["department"], run: noop },
];
const table = new CommandTable(rows);

describe("commands", () => {
  it("are parsed case-insensitively, with their arguments; plain text is no command", () => {
    expect(parseCommand("  !NEEM utr-2026-000001 ")).toEqual({ name: "neem", args: ["utr-2026-000001"] });
    expect(parseCommand("hallo !help")).toBeUndefined();
    expect(parseCommand("!")).toBeUndefined();
  });

  it("are decided from the table: aliases, who, where, arguments", () => {
    const decide = (body: string, role: "citizen" | "staff", place: "conversation" | "service_desk" | "department") => {
      const parsed = parseCommand(body);
      if (!parsed) throw new Error("not a command");
      return table.decide(parsed, role, place).kind;
    };
    expect(decide("!Start", "citizen", "service_desk")).toBe("run");
    expect(decide("!neem X", "citizen", "department")).toBe("staff_only");
    expect(decide("!gesprek", "citizen", "conversation")).toBe("wrong_place");
    expect(decide("!neem", "staff", "department")).toBe("usage");
    expect(decide("!bestaatniet", "staff", "department")).toBe("unknown");
  });

  it("generate help for the sender's role and room", () => {
    expect(table.help("nl", "citizen", "service_desk")).toBe("Wat u hier kunt doen:\n- !help: deze uitleg\n- !gesprek (!start): begin een besloten gesprek met de gemeente");
    expect(table.help("en", "staff", "department")).toContain("- !neem KENMERK: take a conversation");
    expect(table.help("nl", "citizen", "department")).not.toContain("!neem");
  });

  it("refuse two commands claiming one name", () => {
    expect(() => new CommandTable([...rows, { ...rows[0], name: "begin", aliases: ["start"] } as Command<null>])).toThrow(/!start is claimed/);
  });
});

describe("reference numbers", () => {
  it("are formatted with six digits and recognised in any case", () => {
    expect(formatReference("UTR", 2026, 123)).toBe("UTR-2026-000123");
    expect(normaliseReference(" den-haag-2026-000001")).toBe("DEN-HAAG-2026-000001");
    expect(normaliseReference("2026-000001")).toBeUndefined();
  });
});

describe("whether a DM can be the conversation", () => {
  const bot = "@gemeente_utrecht:example.nl";
  it("yes when the bot is an additional creator (room v12 trusted_private_chat) or has enough power", () => {
    expect(botCanHost({ room_version: "12", additional_creators: [bot] }, undefined, bot)).toBe(true);
    expect(botCanHost({ room_version: "10" }, { users: { [bot]: 100 } }, bot)).toBe(true);
  });
  it("no when the bot has too little power (private_chat)", () => {
    expect(botCanHost({ room_version: "12" }, { users: {}, users_default: 0 }, bot)).toBe(false);
    expect(botCanHost({ room_version: "10" }, { users: { [bot]: 50 }, events: { "m.room.power_levels": 100 } }, bot)).toBe(false);
  });
});
