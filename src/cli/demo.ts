// `loket demo`: from a fresh clone to a working system. Starts a local Synapse (the test
// harness's), writes a demo config with one example municipality, starts Loket on the embedded
// store, registers a demo citizen and a demo staff login, and runs until Ctrl-C. A second run
// reuses the same directory (and tokens), so logins and conversations survive.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { start } from "../app.ts";
import { loadConfigFile } from "../config/load.ts";
import { freePort, portIsFree } from "../devserver/ports.ts";
import { startSynapse } from "../devserver/synapse.ts";
import { createLogger } from "../logging.ts";
import { buildRegistration } from "../matrix/registration.ts";
import { desiredRooms } from "../rooms/plan.ts";
import { publicationRules } from "../rooms/publication.ts";
import { CliError } from "./errors.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const SERVER_NAME = "localhost";
const LOGINS = [
  { localpart: "burger", password: "burger-demo", role: "citizen" },
  { localpart: "medewerker", password: "medewerker-demo", role: "staff" },
] as const;

export interface DemoOptions {
  port: number;
  /** Address the homeserver listens on; 127.0.0.1 keeps the demo on this machine. */
  host: string;
  dir: string;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);
const EVERYWHERE = new Set(["0.0.0.0", "::"]);

/** The address other devices use: the host given, or this machine's first LAN address for 0.0.0.0. */
function reachableAddress(host: string): string {
  if (!EVERYWHERE.has(host)) return host.includes(":") ? `[${host}]` : host;
  const lan = Object.values(networkInterfaces()).flat().find((i) => i?.family === "IPv4" && !i.internal);
  return lan?.address ?? "127.0.0.1";
}

interface Previous {
  appservice?: { port?: number; as_token?: string; hs_token?: string };
  crypto?: { store_key?: string; backup_key?: string };
}

/**
 * (Re)writes the demo config for this port, keeping the tokens, the crypto keys and Loket's port
 * of a previous run. Encryption is on, as Element opens every DM encrypted: the store key seals
 * the bot's keys in the embedded store, the recovery key backs its room keys up on the server.
 */
async function writeDemoConfig(file: string, dir: string, port: number): Promise<void> {
  const previous = (existsSync(file) ? YAML.parse(readFileSync(file, "utf8")) : {}) as Previous;
  const before = previous.appservice?.port;
  const loketPort = before !== undefined && before !== port && (await portIsFree(before)) ? before : await freePort();
  const config = {
    homeserver: { url: `http://127.0.0.1:${port}`, domain: SERVER_NAME },
    appservice: {
      port: loketPort,
      public_url: `http://127.0.0.1:${loketPort}`,
      as_token: previous.appservice?.as_token ?? randomBytes(24).toString("hex"),
      hs_token: previous.appservice?.hs_token ?? randomBytes(24).toString("hex"),
    },
    database: { data_dir: join(dir, "pglite") },
    crypto: {
      enabled: true,
      store_key: previous.crypto?.store_key ?? randomBytes(24).toString("hex"),
      backup_key: previous.crypto?.backup_key ?? randomBytes(32).toString("base64"),
    },
    municipalities: [{
      id: "voorbeeld",
      name: "Gemeente Voorbeeld",
      bot_localpart: "gemeente_voorbeeld",
      departments: [{ id: "burgerzaken", name: "Burgerzaken", staff: [`@medewerker:${SERVER_NAME}`] }],
      // Office hours with a lunch break, so that trying the demo outside them shows the auto-reply.
      office_hours: {
        timezone: "Europe/Amsterdam",
        weekly: Object.fromEntries(["monday", "tuesday", "wednesday", "thursday", "friday"].map((d) => [d, ["08:30-12:00", "13:00-17:00"]])),
        exceptions: [
          { date: `${new Date().getFullYear()}-12-24`, hours: ["08:30-15:00"], reason: "Kerstavond" },
          { date: `${new Date().getFullYear()}-12-31`, hours: ["08:30-15:00"], reason: "Oudejaarsdag" },
        ],
      },
      response_term: { working_hours: 4 },
    }],
    logging: { level: "info", file: join(dir, "loket.log") },
  };
  writeFileSync(file, `# Written by 'loket demo'. Delete the demo directory to start afresh.\n${YAML.stringify(config)}`, { mode: 0o600 });
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const dir = resolve(opts.dir);
  // Check before anything is written, so that a failed start leaves no demo folder behind.
  const local = LOOPBACK.has(opts.host);
  for (const host of new Set(["127.0.0.1", local ? "127.0.0.1" : opts.host])) {
    if (!(await portIsFree(opts.port, host))) {
      throw new CliError(`port ${opts.port} on ${host} is in use (another homeserver, or a demo still running?); choose another with --port`, 1);
    }
  }
  mkdirSync(dir, { recursive: true });
  const address = local ? "127.0.0.1" : reachableAddress(opts.host);
  const publicBaseUrl = `http://${address}:${opts.port}`;
  const configFile = join(dir, "config.yaml");
  await writeDemoConfig(configFile, dir, opts.port);
  const { config } = loadConfigFile(configFile);
  const registrationFile = join(dir, "registration.yaml");
  writeFileSync(registrationFile, YAML.stringify(buildRegistration(config)), { mode: 0o600 });

  console.log("Starting Synapse (the first run installs it into .cache/synapse-venv, which takes a minute or two)...");
  const synapse = await startSynapse({
    venvDir: join(REPO, ".cache", "synapse-venv"),
    dataDir: join(dir, "synapse"),
    serverName: SERVER_NAME,
    port: opts.port,
    bindAddresses: local ? ["127.0.0.1"] : EVERYWHERE.has(opts.host) ? [opts.host] : ["127.0.0.1", opts.host],
    publicBaseUrl: `${publicBaseUrl}/`,
    appserviceConfigFiles: [registrationFile],
    // Synapse publishes nothing in its room directory unless these rules allow it.
    extraConfig: { room_list_publication_rules: publicationRules(config) },
    log: (msg) => { console.log(`  ${msg}`); },
  });
  const loket = await start(config, { logger: createLogger(config.logging) }).catch(async (err: unknown) => {
    await synapse.stop();
    throw err;
  });

  for (const login of LOGINS) {
    try {
      await synapse.registerUser(login.localpart, login.password, { displayname: login.role === "citizen" ? "Demo Burger" : "Demo Medewerker" });
    } catch (err) {
      if (!String(err).includes("M_USER_IN_USE")) throw err;
    }
  }

  console.log("Creating the municipality's space and rooms...");
  await loket.started();
  const bot = `@${config.municipalities[0]?.bot_localpart ?? ""}:${SERVER_NAME}`;
  const municipality = config.municipalities[0];
  const rooms = municipality ? desiredRooms(config, municipality) : [];
  const aliasOf = (kind: string): string => rooms.find((r) => r.kind === kind)?.alias ?? "";
  console.log(`
Loket demo is running.

  Homeserver URL   ${publicBaseUrl}   (server name: ${SERVER_NAME})
  Citizen login    @burger:${SERVER_NAME}       password: burger-demo
  Staff login      @medewerker:${SERVER_NAME}   password: medewerker-demo
  Municipality     Gemeente Voorbeeld, bot ${bot}
  Space            ${aliasOf("space")}
  Service desk     ${aliasOf("service_desk")}   (in the room directory)
  Staff room       ${aliasOf("department")}   (the staff login is invited)
  Encryption       on: encrypted DMs work (store and recovery key in ${configFile})

Log in with Element Web or Element Desktop (or any Matrix client) as the citizen, using the
homeserver URL above, and start a direct chat with ${bot} (or join the service desk and type
!gesprek): that opens a conversation with a reference number such as
VOORBEELD-${new Date().getFullYear()}-000001. Log in as the staff member in another browser:
the staff room announces the conversation, and !neem <reference> there brings you into it.
The desk is open Monday to Friday 08:30-12:00 and 13:00-17:00 (Europe/Amsterdam): outside those
hours the citizen's first message gets an auto-reply saying when the desk opens and by when an
answer is due (4 working hours); inside, a receipt with the place in the queue. Staff who type
!dienst aan in the staff room are assigned conversations in due order; !wachtrij shows the queue.
Type !help anywhere to see the commands.${local ? "" : `

WARNING: this demo listens on ${opts.host} and uses fixed, published passwords (burger-demo,
medewerker-demo). Anyone who can reach ${publicBaseUrl} can log in. Use it only on a network
you trust, and never with real data.`}

  Loket            ${loket.url}   (/ready, /metrics)
  Logs             ${config.logging.file}
                   ${synapse.logFile}

Press Ctrl-C to stop.`);

  await new Promise<void>((done) => {
    process.once("SIGINT", () => { done(); });
    process.once("SIGTERM", () => { done(); });
  });
  console.log("\nStopping...");
  await loket.stop();
  await synapse.stop();
  return 0;
}
