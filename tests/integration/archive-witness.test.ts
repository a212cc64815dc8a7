// `loket archive verify` against the checkpoints witnessed in the staff room: an attacker with
// the database who deletes a checkpoint row, or rewrites records and recomputes the chain, the
// head and the checkpoint rows (so that the database alone looks intact), is still found.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Preset } from "matrix-js-sdk";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentHash, recordHash } from "../../src/archive/chain.ts";
import { municipalityRecords, toStored } from "../../src/archive/records.ts";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { sendRaw } from "../harness/archive.ts";
import { newUser, openDm, waitForEvent, waitForMessageFrom } from "../harness/client.ts";
import { SERVER_NAME, TEST_MUNICIPALITY } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually } from "../harness/wait.ts";

const fixture = useStack(() => ({ archive: { checkpoint_interval_seconds: 1 } }));
const bot = `@gemeente_testdorp:${SERVER_NAME}`;
let configFile = "";
let db: Database;
let staffRoom = "";
/** The checkpoints posted, before the attacker came. */
let witnessed: { seq: number; event_id: string }[] = [];

async function verify(...flags: string[]): Promise<{ status: number | null; out: string }> {
  const child = spawn(process.execPath, ["bin/loket.js", "archive", "verify", "-c", configFile, ...flags]);
  let out = "";
  child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
  child.stderr.on("data", (d: Buffer) => { out += d.toString(); });
  const [status] = await once(child, "exit") as [number | null];
  return { status, out };
}

const posted = async (): Promise<{ seq: number; event_id: string }[]> =>
  (await db.query<{ seq: string; event_id: string }>("SELECT seq::text AS seq, event_id FROM archive_checkpoints WHERE event_id IS NOT NULL ORDER BY seq"))
    .map((r) => ({ seq: Number(r.seq), event_id: r.event_id }));

/** Waits until the citizen's messages with these bodies are archived (Synapse pushes them when it likes). */
async function archived(...bodies: string[]): Promise<void> {
  await eventually(async () => {
    const rows = await db.query<{ body: string }>("SELECT content->'content'->>'body' AS body FROM archive_records WHERE event_type = 'm.room.message'");
    return bodies.every((b) => rows.some((r) => r.body === b)) ? true : undefined;
  }, `the archive holding ${bodies.join(", ")}`);
}

/** Waits until the head is posted as a checkpoint. */
async function headPosted(): Promise<void> {
  await eventually(async () => {
    const [head] = await db.query<{ seq: string }>("SELECT seq::text AS seq FROM archive_heads WHERE municipality = 'test'");
    return (await posted()).some((p) => p.seq === Number(head?.seq)) ? true : undefined;
  }, "the head posted");
}

beforeAll(async () => {
  const { stack, citizen } = fixture;
  const staff = await newUser(stack.synapse, "medewerker", { exact: true });
  ({ room_id: staffRoom } = await staff.client.createRoom({
    invite: [bot], preset: Preset.PrivateChat, name: "Archief", power_level_content_override: { users: { [bot]: 50 } },
  }));
  await waitForEvent(staff.client, staffRoom, (ev) => ev.getType() === "m.room.member" && ev.getStateKey() === bot && ev.getContent().membership === "join");
  staff.client.stopClient();
  await stack.restartLoket([{ ...TEST_MUNICIPALITY, archive_checkpoint_room: staffRoom }]);
  db = await openDatabase({ url: stack.config.database.url, dataDir: stack.config.database.data_dir, poolSize: 2 });
  const dm = await openDm(citizen, bot);
  await waitForMessageFrom(citizen.client, dm, bot);
  for (const body of ["Ik wil verhuizen", "Per 1 mei"]) await sendRaw(citizen.client, dm, "m.room.message", { msgtype: "m.text", body });
  await archived("Ik wil verhuizen", "Per 1 mei");
  await headPosted();
  for (const body of ["Naar Utrecht", "Met twee kinderen"]) await sendRaw(citizen.client, dm, "m.room.message", { msgtype: "m.text", body });
  await archived("Naar Utrecht", "Met twee kinderen");
  await headPosted();
  await stack.loket.idle();
  await headPosted();
  // Nothing writes any more: the test plays the attacker on a still archive.
  await stack.stopLoket();
  configFile = join(stack.dataDir, "verify.yaml");
  writeFileSync(configFile, YAML.stringify({ ...stack.config, logging: { level: "error", file: join(stack.dataDir, "verify.log") } }));
});

afterAll(async () => {
  await db.close();
});

describe("verify against the witnessed checkpoints", () => {
  it("passes on an intact archive and says how many witnessed checkpoints match", async () => {
    witnessed = await posted();
    const n = witnessed.length;
    expect(n).toBeGreaterThanOrEqual(2);
    const r = await verify();
    expect(r.out).toContain(`test: ${n} witnessed checkpoints in ${staffRoom} match`);
    expect(r.status).toBe(0);
  });

  it("finds a deleted checkpoint row", async () => {
    const [first] = witnessed;
    if (!first) throw new Error("no checkpoint");
    await db.query("DELETE FROM archive_checkpoints WHERE event_id = $1", [first.event_id]);
    expect((await verify("--offline")).status).toBe(0);
    const r = await verify();
    expect(r.out).toContain(`TAMPERED: test checkpoint at #${first.seq} witnessed in ${staffRoom} (${first.event_id}) is missing from archive_checkpoints: the row was deleted`);
    expect(r.status).toBe(3);
  });

  it("finds records rewritten with their chain, head and checkpoint rows recomputed", async () => {
    const [victim] = await db.query<{ seq: string }>("SELECT seq::text AS seq FROM archive_records WHERE content->'content'->>'body' = 'Per 1 mei'");
    const from = Number(victim?.seq);
    let prev = "";
    for await (const row of municipalityRecords(db, "test")) {
      const rec = toStored(row);
      if (rec.seq < from) { prev = rec.hash; continue; }
      const content = rec.seq === from ? { ...(rec.content as object), content: { msgtype: "m.text", body: "Per 1 juni" } } : rec.content;
      const content_sha256 = contentHash(content, rec.ciphertext);
      const hash = recordHash({ ...rec, prev_hash: prev, content_sha256 });
      await db.query("UPDATE archive_records SET content = $3, content_sha256 = $4, prev_hash = $5, hash = $6 WHERE municipality = $1 AND seq = $2",
        ["test", rec.seq, JSON.stringify(content), content_sha256, prev, hash]);
      prev = hash;
    }
    await db.query("UPDATE archive_heads SET hash = $1 WHERE municipality = 'test'", [prev]);
    await db.query("UPDATE archive_checkpoints c SET hash = r.hash FROM archive_records r WHERE r.municipality = c.municipality AND r.seq = c.seq");
    // The database alone cannot tell.
    const offline = await verify("--offline");
    expect(offline.out).toContain("intact");
    expect(offline.status).toBe(0);
    const witnessedAfter = witnessed.map((p) => p.seq).filter((s) => s >= from);
    const r = await verify();
    expect(r.out).toMatch(new RegExp(`TAMPERED: test checkpoint at #${Math.min(...witnessedAfter)} witnessed in ${staffRoom.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(\\$[^)]+\\) does not match record #${Math.min(...witnessedAfter)} .*records were rewritten`));
    expect(r.status).toBe(3);
  });
});
