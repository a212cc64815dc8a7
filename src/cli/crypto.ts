// `loket crypto status -c FILE [--json]`: each bot's device, identity keys, cross-signing state,
// room keys and store, and the number of events waiting for their room keys. Reads the database
// only (inspect.ts): it never takes a store over, so it runs beside a running Loket (on
// PostgreSQL; the embedded store takes one process at a time, so there it refuses while Loket
// answers on its port). Exit 0 ok; 1 bad input or config (crypto disabled, a store key that does
// not open the stores); 2 runtime failure (database unreachable, no crypto store yet, Loket
// running on the embedded store).
import { parseArgs } from "node:util";
import type { Config } from "../config/schema.ts";
import { defaultConfigPath, loadConfigFile } from "../config/load.ts";
import { inspectStores, type StoredBotStatus, type StoredCryptoStatus } from "../crypto/index.ts";
import { databaseOptions, openDatabase, type Database } from "../db/database.ts";
import { Municipalities } from "../tenants/municipalities.ts";
import { CliError, UsageError } from "./errors.ts";
import { commandHelp } from "./help.ts";

/** The JSON contract of `loket crypto status --json`. */
export function statusJson(s: StoredCryptoStatus): object {
  return {
    bots: s.bots.map((b) => ({
      user_id: b.userId,
      device_id: b.deviceId ?? null,
      identity_keys: b.machine?.identityKeys ?? null,
      cross_signing: b.machine === undefined ? null : {
        master: b.machine.crossSigning.master, self_signing: b.machine.crossSigning.selfSigning,
        user_signing: b.machine.crossSigning.userSigning, master_key: b.machine.crossSigning.masterKey ?? null,
      },
      room_keys: b.machine === undefined ? null : { total: b.machine.roomKeys.total, backed_up: b.machine.roomKeys.backedUp },
      tracked_users: b.machine?.trackedUsers ?? null,
      store: { bytes: b.store.bytes, records: b.store.records, updated_at: b.store.updatedAt ?? null },
      synced: b.synced,
    })),
    waiting_events: s.waitingEvents,
  };
}

const yesNo = (b: boolean): string => (b ? "yes" : "no");

function renderBot(b: StoredBotStatus, configured: boolean): string[] {
  const head = configured ? b.userId : `${b.userId} (no longer in the config)`;
  if (b.deviceId === undefined) return [head, "  no device yet: 'loket start' creates it"];
  const lines = [head, `  device          ${b.deviceId}`];
  const m = b.machine;
  if (m === undefined) return [...lines, "  keys            not persisted yet"];
  const cs = m.crossSigning;
  return [...lines,
    `  identity keys   curve25519 ${m.identityKeys.curve25519}`,
    `                  ed25519    ${m.identityKeys.ed25519}`,
    `  cross-signing   master ${yesNo(cs.master)}, self-signing ${yesNo(cs.selfSigning)}, user-signing ${yesNo(cs.userSigning)}`,
    ...(cs.masterKey === undefined ? [] : [`  master key      ${cs.masterKey}`]),
    `  room keys       ${m.roomKeys.total} (${m.roomKeys.backedUp} backed up)`,
    `  tracked users   ${m.trackedUsers}`,
    `  store           ${b.store.bytes} bytes in ${b.store.records} records, persisted ${b.store.updatedAt ?? "-"}${b.synced ? "" : ", not synced yet"}`,
  ];
}

export function renderStatus(s: StoredCryptoStatus, bots: readonly string[]): string {
  const blocks = s.bots.map((b) => renderBot(b, bots.includes(b.userId)).join("\n"));
  return `${[...blocks, `events waiting for their room keys: ${s.waitingEvents}`].join("\n\n")}\n`;
}

async function hasCryptoTables(db: Database): Promise<boolean> {
  const rows = await db.query<{ t: string | null }>("SELECT to_regclass('crypto_stores')::text AS t");
  return rows[0]?.t !== null && rows[0]?.t !== undefined;
}

/**
 * True when a Loket answers /live on the config's port. Two processes must never open one PGlite
 * folder (opening one writes to it), so on the embedded store the command refuses while it runs.
 */
async function loketAnswers(config: Config): Promise<boolean> {
  const host = ["0.0.0.0", "::", ""].includes(config.appservice.bind_address) ? "127.0.0.1" : config.appservice.bind_address;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${config.appservice.port}/live`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

async function status(config: Config, json: boolean): Promise<number> {
  const storeKey = config.crypto.store_key;
  if (!config.crypto.enabled || storeKey === undefined) {
    throw new CliError("end-to-end encryption is disabled in this config (crypto.enabled: false): the bots have no devices to show", 1);
  }
  const bots = new Municipalities(config).all.map((m) => m.botUserId as string);
  if (config.database.url === "" && await loketAnswers(config)) {
    throw new CliError(`Loket is running on the embedded store (${config.database.data_dir}), which one process at a time may open: stop it first, or run Loket on PostgreSQL (database.url), where this command works beside it`, 2);
  }
  const db = await openDatabase(databaseOptions(config, 1));
  try {
    const none = new CliError("no crypto store yet: 'loket start' with crypto.enabled creates each bot's device and store", 2);
    if (!await hasCryptoTables(db)) throw none;
    let report: StoredCryptoStatus;
    try {
      report = await inspectStores(db, storeKey, bots);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith("cannot decrypt the crypto store")) throw new CliError(err.message, 1);
      throw err;
    }
    if (report.bots.every((b) => b.deviceId === undefined)) throw none;
    process.stdout.write(json ? `${JSON.stringify(statusJson(report))}\n` : renderStatus(report, bots));
    return 0;
  } finally {
    await db.close();
  }
}

export async function runCrypto(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true,
      options: { config: { type: "string", short: "c" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help && positionals.length <= 1 && (positionals[0] ?? "status") === "status") {
    console.log(commandHelp("crypto status"));
    return 0;
  }
  if (positionals[0] !== "status" || positionals.length > 1) {
    throw new UsageError(positionals.length === 0 ? "loket crypto needs a subcommand: status" : `unknown crypto subcommand '${positionals.join(" ")}'`);
  }
  const { config, warnings } = loadConfigFile(values.config ?? defaultConfigPath());
  for (const w of warnings) console.warn(`warning: ${w}`);
  return status(config, values.json ?? false);
}
