// The CLI: parse arguments, load the config, call the command. Exit codes: 0 ok, 1 bad input or
// config, 2 runtime failure.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { CliError, UsageError } from "./cli/errors.ts";
import { COMMANDS, commandHelp, usage, version } from "./cli/help.ts";
import { ConfigError, defaultConfigPath, loadConfigFile } from "./config/load.ts";
import { renderSampleConfig } from "./config/sample.ts";

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: "string", short: "c" },
        output: { type: "string", short: "o" },
        port: { type: "string" },
        host: { type: "string" },
        dir: { type: "string" },
        "generate-tokens": { type: "boolean" },
        "allow-unknown-keys": { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function main(argv: string[]): Promise<number> {
  // These commands parse their own options (and answer their own --help).
  if (argv[0] === "hours") return (await import("./cli/hours.ts")).runHours(argv.slice(1));
  if (argv[0] === "archive") return (await import("./cli/archive.ts")).runArchive(argv.slice(1));
  if (argv[0] === "gdpr") return (await import("./cli/gdpr.ts")).runGdpr(argv.slice(1));
  if (argv[0] === "crypto") return (await import("./cli/crypto.ts")).runCrypto(argv.slice(1));
  const { values, positionals } = parse(argv);
  const [command, sub] = positionals;
  if (values.version || command === "version") {
    console.log(`loket ${version()}`);
    return 0;
  }
  if (command === undefined || command === "help") {
    console.log(usage());
    return 0;
  }
  if (values.help) {
    const name = command === "config" && sub !== undefined ? `config ${sub}` : command;
    const help = command === "config" && sub === undefined
      ? COMMANDS.filter((c) => c.name.startsWith("config ")).map((c) => commandHelp(c.name)).join("\n\n")
      : commandHelp(name);
    if (help === undefined) throw new UsageError(`unknown command '${name}'`);
    console.log(help);
    return 0;
  }
  const configFile = values.config ?? defaultConfigPath();
  switch (command) {
    case "start": {
      const { runStart } = await import("./cli/start.ts");
      return runStart(configFile, { allowUnknownKeys: values["allow-unknown-keys"] ?? false });
    }
    case "registration": {
      const { writeRegistration } = await import("./cli/registration.ts");
      const out = values.output ?? "loket-registration.yaml";
      const generated = writeRegistration(configFile, out, { generateTokens: values["generate-tokens"] ?? false });
      for (const key of generated) console.log(`generated ${key} and wrote it to ${configFile}`);
      console.log(`wrote ${out}`);
      return 0;
    }
    case "config":
      if (sub === "check") {
        const { warnings } = loadConfigFile(configFile);
        for (const w of warnings) console.warn(`warning: ${w}`);
        console.log(`${configFile}: ok`);
        return 0;
      }
      if (sub === "sample") {
        if (values.output === undefined) process.stdout.write(renderSampleConfig());
        else writeFileSync(values.output, renderSampleConfig());
        return 0;
      }
      throw new UsageError(`unknown config subcommand '${sub ?? ""}'`);
    case "rooms": {
      const { runRooms } = await import("./cli/rooms.ts");
      return runRooms(configFile, values.json ?? false);
    }
    case "migrate": {
      const { runMigrate } = await import("./cli/start.ts");
      return runMigrate(configFile);
    }
    case "demo": {
      const { runDemo } = await import("./cli/demo.ts");
      const port = values.port === undefined ? 8008 : Number(values.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be a port number, not '${values.port ?? ""}'`);
      return runDemo({ port, host: values.host ?? "127.0.0.1", dir: values.dir ?? ".loket-demo" });
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

// Exit explicitly once the command is done: matrix-js-sdk leaves a request-timeout timer
// running after every request, which would otherwise keep the process alive for 30 s.
main(process.argv.slice(2)).then(
  (code) => { process.exit(code); },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    } else if (err instanceof UsageError) {
      console.error(`loket: ${err.message}\nRun 'loket --help' for the commands, 'loket <command> --help' for their options.`);
      process.exit(1);
    } else if (err instanceof CliError) {
      console.error(`loket: ${err.message}`);
      process.exit(err.exitCode);
    } else {
      console.error(err);
      process.exit(2);
    }
  },
);
