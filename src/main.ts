// The CLI: parse arguments, load the config, call the command. Exit codes: 0 ok, 1 bad input or
// config, 2 runtime failure.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, defaultConfigPath, loadConfigFile } from "./config/load.ts";
import { UsageError } from "./cli/errors.ts";
import { renderSampleConfig } from "./config/sample.ts";

const USAGE = `Usage: loket <command> [options]

Commands:
  start -c FILE                      run the appservice
  registration -c FILE [-o FILE] [--generate-tokens]
                                     write the Synapse appservice registration (default registration.yaml)
  config check -c FILE               validate the config; exit 1 naming every bad key
  config sample [-o FILE]            print (or write) the sample config generated from the schema
  migrate -c FILE                    apply database migrations
  rooms -c FILE [--json]             list the rooms Loket manages, per municipality
  demo [--port N] [--dir DIR]        local Synapse + Loket on the embedded store, until Ctrl-C
  hours -c FILE --municipality ID [--department ID] [--at ISO-8601] [--json]
                                     open or closed, next opening, due time and holidays
  archive verify|destroy|hold|release|export -c FILE ...   the archive (loket archive --help)
  gdpr export|erase -c FILE --user @citizen:server ...    data-subject requests

-c defaults to $LOKET_CONFIG, then config/config.yaml.`;


async function main(argv: string[]): Promise<number> {
  // `loket hours` parses its own options (src/cli/hours.ts).
  if (argv[0] === "hours") return (await import("./cli/hours.ts")).runHours(argv.slice(1));
  if (argv[0] === "archive") return (await import("./cli/archive.ts")).runArchive(argv.slice(1));
  if (argv[0] === "gdpr") return (await import("./cli/gdpr.ts")).runGdpr(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string", short: "c" },
      output: { type: "string", short: "o" },
      port: { type: "string" },
      dir: { type: "string" },
      "generate-tokens": { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, sub] = positionals;
  const configFile = values.config ?? defaultConfigPath();
  if (values.help || command === undefined || command === "help") {
    console.log(USAGE);
    return 0;
  }
  switch (command) {
    case "start": {
      const { runStart } = await import("./cli/start.ts");
      return runStart(configFile);
    }
    case "registration": {
      const { writeRegistration } = await import("./cli/registration.ts");
      const out = values.output ?? "registration.yaml";
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
    case "migrate": {
      const { runMigrate } = await import("./cli/start.ts");
      return runMigrate(configFile);
    }
    case "rooms": {
      const { runRooms } = await import("./cli/rooms.ts");
      return runRooms(configFile, values.json ?? false);
    }
    case "demo": {
      const { runDemo } = await import("./cli/demo.ts");
      const port = values.port === undefined ? 8008 : Number(values.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be a port number, not '${values.port ?? ""}'`);
      return runDemo({ port, dir: values.dir ?? ".loket-demo" });
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
    } else if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`${(err as Error).message}\n\n${USAGE}`);
      process.exit(1);
    } else {
      console.error(err);
      process.exit(2);
    }
  },
);
