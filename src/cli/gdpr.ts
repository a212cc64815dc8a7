// `loket gdpr export|erase -c FILE --user @citizen:server`: data-subject requests (AVG).
// Exit codes: 0 ok, 1 bad input or config, 2 runtime failure.
import { parseArgs } from "node:util";
import { audit } from "../archive/audit.ts";
import { gdprErase, gdprExport } from "../archive/gdpr.ts";
import { defaultConfigPath } from "../config/load.ts";
import { isUserId } from "../matrix/ids.ts";
import { withArchiveDb } from "./archive.ts";
import { UsageError } from "./errors.ts";

export const GDPR_USAGE = `Usage:
  loket gdpr export -c FILE --user @citizen:server --out DIR [--by NAME]
  loket gdpr erase -c FILE --user @citizen:server --by NAME [--json]`;

export async function runGdpr(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { config: { type: "string", short: "c" }, user: { type: "string" }, out: { type: "string" }, by: { type: "string" }, json: { type: "boolean" } },
  });
  const file = v.config ?? defaultConfigPath();
  const user = v.user ?? "";
  if (!isUserId(user)) throw new UsageError(`--user must be a Matrix user id like @citizen:example.nl\n${GDPR_USAGE}`);
  const by = v.by ?? "operator";
  switch (positionals[0]) {
    case "export":
      return withArchiveDb(file, async (db, config) => {
        if (v.out === undefined) throw new UsageError("--out is required");
        const r = await gdprExport(db, config, user, v.out);
        await audit(db, { actor: by, action: "gdpr.export", object: user, result: `${r.conversations} conversations to ${v.out}` });
        console.log(r.summary);
        return 0;
      });
    case "erase":
      return withArchiveDb(file, async (db, config) => {
        if (v.by === undefined) throw new UsageError("--by is required");
        const lines = await gdprErase(db, config, user, by);
        await audit(db, { actor: by, action: "gdpr.erase", object: user, result: lines.map((l) => `${l.conversation}: ${l.outcome}`).join("; ") || "nothing held" });
        if (v.json) console.log(JSON.stringify(lines));
        else for (const l of lines) console.log(`${l.conversation}: ${l.outcome} (${l.reason})`);
        return 0;
      });
    default:
      throw new UsageError(`unknown gdpr command '${positionals[0] ?? ""}'\n${GDPR_USAGE}`);
  }
}
