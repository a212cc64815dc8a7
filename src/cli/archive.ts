// `loket archive verify | destroy | hold | release | export`. Exit codes: 0 ok, 1 bad input or
// config, 2 runtime failure, 3 the archive was tampered with (verify).
import { parseArgs } from "node:util";
import { audit, verifyAudit } from "../archive/audit.ts";
import { approveDestruction, listChecksum } from "../archive/destroy.ts";
import { buildDestructionList, readDestructionList } from "../archive/destruction-list.ts";
import { exportConversation, selectConversations } from "../archive/export.ts";
import { placeHold, releaseHold } from "../archive/holds.ts";
import { verifyChain, type Witness } from "../archive/verify.ts";
import { readWitnessed } from "../archive/witness.ts";
import { defaultConfigPath, loadConfigFile } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { databaseOptions, openDatabase, type Database } from "../db/database.ts";
import { migrate } from "../db/migrate.ts";
import { Municipalities } from "../tenants/municipalities.ts";
import { UsageError } from "./errors.ts";

export const ARCHIVE_USAGE = `Usage:
  loket archive verify -c FILE [--municipality ID] [--offline]
  loket archive destroy -c FILE --municipality ID --due-before DATE [--out DIR]
  loket archive destroy -c FILE --approve LIST --by NAME
  loket archive hold -c FILE --municipality ID (--conversation REF | --citizen @user:server) --reason TEXT --by NAME
  loket archive release -c FILE --hold ID --by NAME
  loket archive export -c FILE (--conversation REF | --municipality ID --from DATE --to DATE) --out DIR [--by NAME]
Exit codes: 0 ok, 1 bad input or config, 2 runtime failure, 3 tampering found (verify).`;

export const TAMPERED = 3;

const OPTIONS = {
  config: { type: "string", short: "c" }, municipality: { type: "string" }, "due-before": { type: "string" }, out: { type: "string" },
  approve: { type: "string" }, by: { type: "string" }, conversation: { type: "string" }, citizen: { type: "string" },
  reason: { type: "string" }, hold: { type: "string" }, from: { type: "string" }, to: { type: "string" },
  offline: { type: "boolean" },
} as const;

export type ArchiveArgs = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>>["values"];

export async function withArchiveDb<T>(configFile: string, fn: (db: Database, config: Config) => Promise<T>): Promise<T> {
  const { config } = loadConfigFile(configFile);
  const db = await openDatabase(databaseOptions(config, 2));
  try {
    await migrate(db);
    return await fn(db, config);
  } finally {
    await db.close();
  }
}

export function parseDate(text: string | undefined, flag: string): Date {
  if (text === undefined) throw new UsageError(`${flag} is required`);
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(d.getTime())) throw new UsageError(`${flag} must be a date like 2027-01-01, not '${text}'`);
  return d;
}

const required = (v: string | undefined, flag: string): string => {
  if (v === undefined || v === "") throw new UsageError(`${flag} is required`);
  return v;
};

function municipalityOf(config: Config, id: string): string {
  if (!config.municipalities.some((m) => m.id === id)) throw new UsageError(`unknown municipality '${id}'`);
  return id;
}

/**
 * The checkpoints posted to the municipality's checkpoint room, read from the homeserver; none
 * when no room is configured, or when the homeserver cannot be reached (said on stderr: the
 * chain is then compared with the database's checkpoints only).
 */
async function witnessOf(config: Config, id: string): Promise<Witness | undefined> {
  const m = new Municipalities(config).all.find((x) => x.id === id);
  const roomId = m?.config.archive_checkpoint_room ?? "";
  if (!m || roomId === "") return undefined;
  try {
    const checkpoints = await readWitnessed({ homeserverUrl: config.homeserver.url, asToken: config.appservice.as_token, roomId, bot: m.botUserId, municipality: id });
    return { roomId, checkpoints };
  } catch (err) {
    console.error(`${id}: the witnessed checkpoints in ${roomId} could not be read (${String(err)}); compared with the database's checkpoints only`);
    return undefined;
  }
}

export async function runArchive(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  const file = v.config ?? defaultConfigPath();
  switch (positionals[0]) {
    case "verify":
      return withArchiveDb(file, async (db, config) => {
        const ids = v.municipality === undefined ? config.municipalities.map((m) => m.id) : [municipalityOf(config, v.municipality)];
        let broken = false;
        for (const id of ids) {
          const witness = v.offline === true ? undefined : await witnessOf(config, id);
          const r = await verifyChain(db, id, witness);
          console.log(`${id}: ${r.count} records, head ${r.head}, ${r.checkpoints} checkpoints, ${r.destroyed} destroyed (tombstones)`);
          if (witness && r.broken === undefined) console.log(`${id}: ${r.witnessed ?? 0} witnessed checkpoints in ${witness.roomId} match`);
          if (r.broken !== undefined) { console.log(`TAMPERED: ${r.broken}`); broken = true; }
        }
        const a = await verifyAudit(db);
        console.log(`audit log: ${a.count} entries`);
        if (a.broken !== undefined) { console.log(`TAMPERED: ${a.broken}`); broken = true; }
        await audit(db, { actor: v.by ?? "operator", action: "archive.verify", object: ids.join(","), result: broken ? "tampered" : "intact" });
        console.log(broken ? "the archive was tampered with" : "intact");
        return broken ? TAMPERED : 0;
      });
    case "destroy":
      if (v.approve !== undefined) {
        const listPath = v.approve;
        const by = required(v.by, "--by");
        return withArchiveDb(file, async (db, config) => {
          const list = readDestructionList(listPath);
          municipalityOf(config, list.municipality);
          const out = await approveDestruction(db, config, listChecksum(listPath), list, by);
          for (const d of out.destroyed) console.log(`destroyed ${d.conversation}: ${d.records} records (${d.category})`);
          for (const s of out.skipped) console.log(`kept ${s.conversation}: ${s.reason}`);
          console.log(`destruction #${out.destructionId}: ${out.destroyed.length} conversations destroyed, ${out.skipped.length} kept`);
          await audit(db, { actor: by, action: "archive.destroy", object: `list ${list.list_id}`, result: `destruction #${out.destructionId}: ${out.destroyed.length} destroyed, ${out.skipped.length} kept` });
          return 0;
        });
      }
      return withArchiveDb(file, async (db, config) => {
        const id = municipalityOf(config, required(v.municipality, "--municipality"));
        const r = await buildDestructionList(db, config, id, parseDate(v["due-before"], "--due-before"), v.out ?? ".");
        console.log(r.csv);
        console.log(r.json);
        console.error(`${r.count} conversations due${r.held > 0 ? `; ${r.held} more on legal hold, not listed` : ""}; nothing was deleted`);
        await audit(db, { actor: v.by ?? "operator", action: "archive.destruction-list", object: id, result: `${r.count} listed: ${r.json}` });
        return 0;
      });
    case "hold":
      return withArchiveDb(file, async (db, config) => {
        const municipality = municipalityOf(config, required(v.municipality, "--municipality"));
        if ((v.conversation === undefined) === (v.citizen === undefined)) throw new UsageError("give either --conversation or --citizen");
        const by = required(v.by, "--by");
        const id = await placeHold(db, { municipality, conversation: v.conversation, citizen: v.citizen, reason: required(v.reason, "--reason"), by });
        await audit(db, { actor: by, action: "archive.hold", object: v.conversation ?? v.citizen ?? "", result: `hold #${id}` });
        console.log(`hold #${id}`);
        return 0;
      });
    case "release":
      return withArchiveDb(file, async (db) => {
        const by = required(v.by, "--by");
        const id = Number(required(v.hold, "--hold"));
        const ok = await releaseHold(db, id, by);
        await audit(db, { actor: by, action: "archive.release", object: `hold #${id}`, result: ok ? "released" : "no such active hold" });
        if (!ok) throw new UsageError(`no active hold #${id}`);
        console.log(`hold #${id} released`);
        return 0;
      });
    case "export":
      return withArchiveDb(file, async (db, config) => {
        const out = required(v.out, "--out");
        const sel = v.conversation !== undefined ? { conversation: v.conversation }
          : { municipality: municipalityOf(config, required(v.municipality, "--municipality")), from: parseDate(v.from, "--from"), to: parseDate(v.to, "--to") };
        let n = 0;
        for await (const conv of selectConversations(db, sel)) {
          console.log(await exportConversation(db, config, conv, out));
          n++;
        }
        await audit(db, { actor: v.by ?? "operator", action: "archive.export", object: v.conversation ?? `${sel.municipality ?? ""} ${v.from ?? ""}..${v.to ?? ""}`, result: `${n} conversations to ${out}` });
        if (n === 0) throw new UsageError("no conversation matches");
        console.error(`${n} conversations exported to ${out}`);
        return 0;
      });
    default:
      throw new UsageError(`unknown archive command '${positionals[0] ?? ""}'\n${ARCHIVE_USAGE}`);
  }
}
