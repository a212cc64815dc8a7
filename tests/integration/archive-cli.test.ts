// `loket archive` and `loket gdpr` as an operator runs them, on the database Loket archived into
// (Loket stopped first, so that this also works on the embedded store): exit codes, printed
// paths, and verify naming the record after a hand-made SQL UPDATE and DELETE.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { databaseOptions, openDatabase } from "../../src/db/database.ts";
import { archivedIn, sendRaw, type ArchivedRow } from "../harness/archive.ts";
import { openDm, waitForMessageFrom } from "../harness/client.ts";
import { REPO_ROOT } from "../harness/paths.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually } from "../harness/wait.ts";

const fixture = useStack();
const bot = `@gemeente_testdorp:${SERVER_NAME}`;
const dir = mkdtempSync(join(tmpdir(), "loket-archive-cli-"));
let configFile = "";
let roomId = "";
let rows: ArchivedRow[] = [];

const loket = (...args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, "bin/loket.js"), ...args], { encoding: "utf8", env: { ...process.env, LOKET_CONFIG: undefined } });

async function sql(text: string, params: unknown[] = []): Promise<void> {
  const db = await openDatabase(databaseOptions(fixture.stack.config, 1));
  try { await db.query(text, params); } finally { await db.close(); }
}

let chainLength = 0;

beforeAll(async () => {
  const { stack, citizen } = fixture;
  roomId = await openDm(citizen, bot);
  await waitForMessageFrom(citizen.client, roomId, bot);
  const last = await sendRaw(citizen.client, roomId, "m.room.message", { msgtype: "m.text", body: "Wanneer is het milieupark open?" });
  rows = await eventually(async () => {
    const r = await archivedIn(stack.loket.database, roomId);
    return r.some((x) => x.event_id === last) ? r : undefined;
  }, "archived");
  await stack.loket.idle();
  // The municipality's chain also holds its own rooms (space, service desk, department room).
  const [count] = await stack.loket.database.query<{ n: number }>("SELECT count(*)::int AS n FROM archive_records WHERE municipality = 'test'");
  chainLength = count?.n ?? -1;
  await stack.stopLoket();
  configFile = join(dir, "config.yaml");
  writeFileSync(configFile, YAML.stringify(stack.config));
});

describe("loket archive (CLI)", () => {
  it("verify prints count and head and exits 0 on an intact archive", () => {
    const res = loket("archive", "verify", "-c", configFile, "--municipality", "test");
    expect(chainLength).toBeGreaterThan(rows.length);
    expect(res.stdout).toMatch(new RegExp(`test: ${chainLength} records, head [0-9a-f]{64}`));
    expect(res.stdout).toContain("intact");
    expect(res.status).toBe(0);
  });

  it("destroy writes a CSV and a JSON list, prints both paths and deletes nothing; approval keeps what is not due", () => {
    const res = loket("archive", "destroy", "-c", configFile, "--municipality", "test", "--due-before", "2200-01-01", "--out", join(dir, "lists"));
    expect(res.status).toBe(0);
    const [csv, json] = res.stdout.trim().split("\n");
    expect(csv).toMatch(/\.csv$/);
    expect(json).toMatch(/\.json$/);
    expect(existsSync(csv ?? "") && existsSync(json ?? "")).toBe(true);
    const approve = loket("archive", "destroy", "-c", configFile, "--approve", json ?? "", "--by", "archivaris");
    expect(approve.status).toBe(0);
    expect(approve.stdout).toContain(`kept ${roomId}: not due until`);
    expect(loket("archive", "verify", "-c", configFile).status).toBe(0);
  });

  it("hold, release, export and gdpr erase", () => {
    const hold = loket("archive", "hold", "-c", configFile, "--municipality", "test", "--conversation", roomId, "--reason", "Woo-verzoek", "--by", "archivaris");
    expect(hold.stdout).toMatch(/^hold #\d+/);
    const id = /#(\d+)/.exec(hold.stdout)?.[1] ?? "";
    expect(loket("archive", "release", "-c", configFile, "--hold", id, "--by", "archivaris").status).toBe(0);
    expect(loket("archive", "release", "-c", configFile, "--hold", id, "--by", "archivaris").status).toBe(1);
    const exp = loket("archive", "export", "-c", configFile, "--municipality", "test", "--from", "2020-01-01", "--to", "2200-01-01", "--out", join(dir, "export"));
    expect(exp.status).toBe(0);
    expect(existsSync(exp.stdout.trim().split("\n")[0] ?? "")).toBe(true);
    const erase = loket("gdpr", "erase", "-c", configFile, "--user", fixture.citizen.userId, "--by", "fg", "--json");
    expect(erase.status).toBe(0);
    expect(JSON.parse(erase.stdout)).toEqual([expect.objectContaining({ conversation: roomId, outcome: "kept", reason: expect.stringContaining("Archiefwet") as string })]);
    expect(loket("archive", "frobnicate", "-c", configFile).status).toBe(1);
  });

  it("verify exits 3 naming the record after an SQL UPDATE, and after an SQL DELETE", async () => {
    const victim = rows[1];
    const gone = rows[2];
    if (!victim || !gone) throw new Error("too few records");
    await sql("UPDATE archive_records SET sender = '@iemand:elders' WHERE event_id = $1", [victim.event_id]);
    const updated = loket("archive", "verify", "-c", configFile);
    expect(updated.status).toBe(3);
    expect(updated.stdout).toContain(`record #${victim.seq} (${victim.event_id}) was altered`);
    await sql("UPDATE archive_records SET sender = $2 WHERE event_id = $1", [victim.event_id, victim.sender]);
    expect(loket("archive", "verify", "-c", configFile).status).toBe(0);
    await sql("DELETE FROM archive_records WHERE event_id = $1", [gone.event_id]);
    const deleted = loket("archive", "verify", "-c", configFile);
    expect(deleted.status).toBe(3);
    expect(deleted.stdout).toContain(`record #${gone.seq} is missing (deleted)`);
  });
});
