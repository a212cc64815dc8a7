// The commands as data: each has its usage line, a summary and its options. `loket --help`
// lists them; `loket <command> --help` shows one.
import { readFileSync } from "node:fs";

export interface CommandHelp {
  name: string;
  usage: string;
  summary: string;
  options: [string, string][];
}

const CONFIG_OPTION: [string, string] = ["-c, --config FILE", "config file (default $LOKET_CONFIG, then config/config.yaml)"];

export const COMMANDS: CommandHelp[] = [
  {
    name: "start", usage: "loket start [-c FILE] [--allow-unknown-keys]", summary: "run the appservice",
    options: [CONFIG_OPTION, ["--allow-unknown-keys", "start even when the config has unknown keys (they are logged as warnings)"]],
  },
  {
    name: "registration", usage: "loket registration [-c FILE] [-o FILE] [--generate-tokens]",
    summary: "write the Synapse appservice registration",
    options: [CONFIG_OPTION, ["-o, --output FILE", "where to write it (default loket-registration.yaml; the top-level registration.yaml is a tracked sample); mode 0600"],
      ["--generate-tokens", "fill in missing or placeholder as_token/hs_token in the config file (kept 0600, comments kept)"]],
  },
  {
    name: "config check", usage: "loket config check [-c FILE]", summary: "validate the config; exit 1 naming every bad or unknown key",
    options: [CONFIG_OPTION],
  },
  {
    name: "config sample", usage: "loket config sample [-o FILE]", summary: "print (or write) the sample config generated from the schema",
    options: [["-o, --output FILE", "write to FILE instead of standard output"]],
  },
  { name: "migrate", usage: "loket migrate [-c FILE]", summary: "apply database migrations", options: [CONFIG_OPTION] },
  {
    name: "rooms", usage: "loket rooms [-c FILE] [--json]", summary: "list the rooms Loket manages, per municipality",
    options: [CONFIG_OPTION, ["--json", "one JSON array of {municipality, kind, room_id, alias, name, department?, id?}"]],
  },
  {
    name: "hours", usage: "loket hours [-c FILE] --municipality ID [--department ID] [--at ISO-8601] [--json]",
    summary: "open or closed, next opening, due time and holidays", options: [CONFIG_OPTION],
  },
  { name: "archive", usage: "loket archive verify|destroy|hold|release|export [-c FILE] ...", summary: "the archive (loket archive --help)", options: [CONFIG_OPTION] },
  {
    name: "crypto status", usage: "loket crypto status [-c FILE] [--json]",
    summary: "each bot's device, keys, cross-signing and the events waiting for keys (read-only; also while Loket runs)",
    options: [CONFIG_OPTION, ["--json", "one JSON object: {bots: [{user_id, device_id, identity_keys, cross_signing, room_keys, tracked_users, store, synced}], waiting_events}"]],
  },
  { name: "gdpr", usage: "loket gdpr export|erase [-c FILE] --user @citizen:server ...", summary: "data-subject requests (loket gdpr --help)", options: [CONFIG_OPTION] },
  {
    name: "demo", usage: "loket demo [--port N] [--host ADDR] [--dir DIR]",
    summary: "local Synapse + Loket on the embedded store, with demo logins, until Ctrl-C",
    options: [["--port N", "homeserver port (default 8008)"],
      ["--host ADDR", "address the demo homeserver listens on (default 127.0.0.1); 0.0.0.0 for every interface, so that other devices on the network can join. The demo uses fixed passwords"],
      ["--dir DIR", "where the demo keeps its state (default .loket-demo)"]],
  },
];

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    "Usage: loket <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "  loket <command> --help   options of one command",
    "  loket --version          the version",
    "",
    "Exit codes: 0 ok, 1 bad input or config, 2 runtime failure.",
  ].join("\n");
}

export function commandHelp(name: string): string | undefined {
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) return undefined;
  const width = Math.max(...cmd.options.map(([o]) => o.length)) + 2;
  return [`Usage: ${cmd.usage}`, "", `${cmd.summary[0]?.toUpperCase() ?? ""}${cmd.summary.slice(1)}.`, "", "Options:",
    ...cmd.options.map(([o, d]) => `  ${o.padEnd(width)}${d}`), `  ${"-h, --help".padEnd(width)}this help`].join("\n");
}
