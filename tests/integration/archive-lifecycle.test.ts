// The archive's life after capture, on a real Synapse: hooks after a receiver outage,
// checkpoints (stored and posted as state), an MDTO export that validates against the XSD,
// destruction lists, legal holds, approval with tombstones, GDPR export and erase, the audit log.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Preset } from "matrix-js-sdk";
import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { audit, verifyAudit } from "../../src/archive/audit.ts";
import { blobPath } from "../../src/archive/blobs.ts";
import { CHECKPOINT_EVENT_TYPE, writeCheckpoints } from "../../src/archive/checkpoints.ts";
import { approveDestruction } from "../../src/archive/destroy.ts";
import { buildDestructionList, readDestructionList } from "../../src/archive/destruction-list.ts";
import { exportConversation, selectConversations } from "../../src/archive/export.ts";
import { gdprErase, gdprExport } from "../../src/archive/gdpr.ts";
import { placeHold, releaseHold } from "../../src/archive/holds.ts";
import { verifyChain } from "../../src/archive/verify.ts";
import { Homeserver } from "../../src/matrix/client.ts";
import { HomeserverGate } from "../../src/matrix/gate.ts";
import { RoomEncryption } from "../../src/matrix/room-encryption.ts";
import { Municipalities } from "../../src/tenants/municipalities.ts";
import { archivedIn, sendRaw } from "../harness/archive.ts";
import { newUser, openDm, waitForEvent, waitForMessageFrom } from "../harness/client.ts";
import { startHookReceiver, type HookReceiver } from "../harness/hook-receiver.ts";
import { validateMdto } from "../harness/mdto.ts";
import { SERVER_NAME, TEST_MUNICIPALITY } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually } from "../harness/wait.ts";

const SECRET = "hook-secret-for-tests";
let receiver: HookReceiver | undefined;
const fixture = useStack(async () => {
  receiver = await startHookReceiver(SECRET);
  return { archive: { hooks: [{ url: receiver.url, secret: SECRET }], hook_retry_max_seconds: 1, checkpoint_interval_seconds: 1 } };
}, async () => { await receiver?.close(); });
const bot = `@gemeente_testdorp:${SERVER_NAME}`;
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
const out = mkdtempSync(join(tmpdir(), "loket-archive-out-"));
const rooms: string[] = [];
let lastEvent = "";

async function conversation(texts: string[], image = false): Promise<string> {
  const { citizen } = fixture;
  const roomId = await openDm(citizen, bot);
  await waitForMessageFrom(citizen.client, roomId, bot);
  for (const body of texts) lastEvent = await sendRaw(citizen.client, roomId, "m.room.message", { msgtype: "m.text", body });
  if (image) {
    const { content_uri: url } = await citizen.client.uploadContent(PNG, { type: "image/png", name: "foto.png" });
    lastEvent = await sendRaw(citizen.client, roomId, "m.room.message", { msgtype: "m.image", body: "foto.png", url, info: { mimetype: "image/png" } });
  }
  return roomId;
}

beforeAll(async () => {
  rooms.push(await conversation(["Ik wil verhuizen", "Per 1 mei"], true), await conversation(["Ik heb een klacht"]));
  const db = fixture.stack.loket.database;
  await eventually(async () => ((await archivedIn(db, rooms[1] ?? "")).some((r) => r.event_id === lastEvent) ? true : undefined), "both conversations archived");
  await eventually(async () => ((await db.query("SELECT 1 FROM archive_media WHERE status = 'stored'")).length > 0 ? true : undefined), "the image stored");
});

describe("archive hooks", () => {
  it("deliver every record, signed, in order per conversation, after the receiver was down", async () => {
    const r = receiver;
    if (!r) throw new Error("no receiver");
    const db = fixture.stack.loket.database;
    await eventually(() => Promise.resolve(r.refused > 0 ? true : undefined), "a refused delivery");
    r.down = false;
    const total = (await db.query("SELECT 1 FROM archive_records")).length;
    await eventually(() => Promise.resolve(r.deliveries.length >= total ? true : undefined), "every record delivered", 60_000);
    expect(r.badSignatures).toBe(0);
    for (const roomId of rooms) {
      const archived = await archivedIn(db, roomId);
      expect(r.deliveries.filter((d) => d.conversation === roomId).map((d) => d.eventId)).toEqual(archived.map((a) => a.event_id));
    }
  });
});

describe("checkpoints", () => {
  it("are written periodically, verified, and posted as state into the staff room", async () => {
    const { stack } = fixture;
    const db = stack.loket.database;
    await eventually(async () => ((await db.query("SELECT 1 FROM archive_checkpoints")).length > 0 ? true : undefined), "a checkpoint");
    const staff = await newUser(stack.synapse, "medewerker", { exact: true });
    const { room_id: staffRoom } = await staff.client.createRoom({
      invite: [bot], preset: Preset.PrivateChat, name: "Archief",
      // The bot needs the right to set state in the checkpoint room (state_default 50).
      power_level_content_override: { users: { [bot]: 50 } },
    });
    await waitForEvent(staff.client, staffRoom, (ev) => ev.getType() === "m.room.member" && ev.getStateKey() === bot && ev.getContent().membership === "join");
    const config = { ...stack.config, municipalities: [{ ...stack.config.municipalities[0], ...TEST_MUNICIPALITY, archive_checkpoint_room: staffRoom }] } as typeof stack.config;
    const gate = new HomeserverGate({ maxConcurrent: 4, requestTimeoutMs: 30_000, firstPauseMs: 500, maxPauseMs: 1_000 });
    const hs = new Homeserver({ url: stack.config.homeserver.url, asToken: stack.config.appservice.as_token, log: pino({ level: "silent" }), gate, db, rooms: new RoomEncryption() });
    try {
      await sendRaw(fixture.citizen.client, rooms[0] ?? "", "m.room.message", { msgtype: "m.text", body: "nog iets" });
      await writeCheckpoints(db, hs, new Municipalities(config), pino({ level: "silent" }));
    } finally {
      hs.abortAll();
    }
    const posted = await waitForEvent(staff.client, staffRoom, (ev) => ev.getType() === CHECKPOINT_EVENT_TYPE);
    expect(posted.getStateKey()).toBe("test");
    const [head] = await db.query<{ seq: string; hash: string }>("SELECT seq::text AS seq, hash FROM archive_checkpoints WHERE event_id = $1", [posted.getId()]);
    expect(posted.getContent()).toMatchObject({ municipality: "test", seq: Number(head?.seq), hash: head?.hash });
    const v = await verifyChain(db, "test");
    expect(v.broken).toBeUndefined();
    expect(v.checkpoints).toBeGreaterThan(0);
    staff.client.stopClient();
  });
});

describe("MDTO export", () => {
  it("writes a folder per conversation whose XML validates against the XSD and whose checksums match", async () => {
    const { stack } = fixture;
    const convs = [];
    for await (const c of selectConversations(stack.loket.database, { conversation: rooms[0] ?? "" })) convs.push(c);
    expect(convs).toHaveLength(1);
    const dir = await exportConversation(stack.loket.database, stack.config, convs[0] ?? (undefined as never), join(out, "export"));
    const files = readdirSync(dir);
    const xml = files.filter((f) => f.endsWith(".xml"));
    expect(await validateMdto(xml.map((f) => ({ name: f, xml: readFileSync(join(dir, f), "utf8") })))).toEqual([]);
    const data = files.filter((f) => !f.endsWith(".xml"));
    expect(data.some((f) => f.endsWith(".html"))).toBe(true);
    expect(data.some((f) => f.endsWith(".json"))).toBe(true);
    const image = data.find((f) => f.endsWith(".png"));
    expect(image && readFileSync(join(dir, image)).equals(PNG)).toBe(true);
    for (const f of data) {
      const sidecar = readFileSync(join(dir, `${f}.bestand.mdto.xml`), "utf8");
      const bytes = readFileSync(join(dir, f));
      expect(sidecar).toContain(`<checksumWaarde>${createHash("sha256").update(bytes).digest("hex")}</checksumWaarde>`);
      expect(sidecar).toContain(`<omvang>${bytes.length}</omvang>`);
      expect(sidecar).toContain("<begripLabel>SHA-256</begripLabel>");
    }
    expect(readFileSync(join(dir, data.find((f) => f.endsWith(".png.bestand.mdto.xml")) ?? `${image ?? ""}.bestand.mdto.xml`), "utf8")).toContain("fmt/13");
    const html = readFileSync(join(dir, data.find((f) => f.endsWith(".html")) ?? ""), "utf8");
    expect(html).toContain('<html lang="nl">');
    expect(html).toContain("Ik wil verhuizen");
    const io = readFileSync(join(dir, xml.find((f) => !f.includes(".bestand.")) ?? ""), "utf8");
    expect(io).toContain("<begripCode>V</begripCode>");
    expect(io).toContain("<termijnLooptijd>P1Y</termijnLooptijd>");
  });
});

describe("retention and destruction", () => {
  it("lists what is due, honours a legal hold, destroys on approval leaving tombstones, and the chain still verifies", async () => {
    const { stack } = fixture;
    const db = stack.loket.database;
    const [a, b] = [rooms[0] ?? "", rooms[1] ?? ""];
    // Both conversations closed three years ago (a one-year term: due).
    await db.query("UPDATE archive_conversations SET closed_at = now() - interval '3 years' WHERE conversation = ANY($1)", [[a, b]]);
    const hold = await placeHold(db, { municipality: "test", conversation: b, reason: "Woo-verzoek 2026-17", by: "archivaris" });
    const listed = await buildDestructionList(db, stack.config, "test", new Date(), join(out, "lists"));
    expect(existsSync(listed.csv) && existsSync(listed.json)).toBe(true);
    const list = readDestructionList(listed.json);
    expect(list.conversations.map((c) => c.conversation)).toEqual([a]);
    expect(listed.held).toBe(1);
    expect(readDestructionList(listed.csv).conversations).toEqual(list.conversations);
    expect(list.conversations[0]).toMatchObject({ category: "algemene-vragen", retention_years: 1 });
    // Nothing was deleted by listing.
    expect((await archivedIn(db, a)).every((r) => (r.content as unknown) !== null)).toBe(true);

    // A list that names the held conversation too: only the other one goes.
    const forged = { ...list, conversations: [...list.conversations, { ...(list.conversations[0] ?? ({} as never)), conversation: b }] };
    const res = await approveDestruction(db, stack.config, "sha", forged, "archivaris");
    expect(res.destroyed.map((d) => d.conversation)).toEqual([a]);
    expect(res.skipped).toEqual([{ conversation: b, reason: expect.stringContaining("legal hold") as string }]);
    const tomb = await db.query<{ content: unknown; hash: string; destroyed_at: Date | null }>("SELECT content, hash, destroyed_at FROM archive_records WHERE conversation = $1", [a]);
    expect(tomb.length).toBeGreaterThan(0);
    expect(tomb.every((t) => t.content === null && t.destroyed_at !== null && t.hash.length === 64)).toBe(true);
    const [sha] = await db.query<{ sha256: string }>("SELECT sha256 FROM archive_media m JOIN archive_records r USING (event_id) WHERE r.conversation = $1", [a]);
    expect(existsSync(blobPath(stack.config.archive.blob_dir, sha?.sha256 ?? ""))).toBe(false);
    const v = await verifyChain(db, "test");
    expect(v.broken).toBeUndefined();
    expect(v.destroyed).toBe(tomb.length);
    const [rec] = await db.query<{ approved_by: string; conversations: unknown[] }>("SELECT approved_by, conversations FROM archive_destructions WHERE id = $1", [res.destructionId]);
    expect(rec?.approved_by).toBe("archivaris");
    expect(rec?.conversations).toHaveLength(1);

    // Released, the held conversation is destroyed by the next approval.
    expect(await releaseHold(db, hold, "archivaris")).toBe(true);
    const again = await approveDestruction(db, stack.config, "sha", forged, "archivaris");
    expect(again.destroyed.map((d) => d.conversation)).toEqual([b]);
    expect((await verifyChain(db, "test")).broken).toBeUndefined();
  });
});

describe("GDPR and the audit log", () => {
  it("export gives the person's conversations; erase keeps what the Archiefwet keeps and says until when", async () => {
    const { stack, citizen } = fixture;
    const db = stack.loket.database;
    const open = await conversation(["Een nieuwe vraag"]);
    await eventually(async () => ((await archivedIn(db, open)).some((r) => r.event_id === lastEvent) ? true : undefined), "archived");
    const exp = await gdprExport(db, stack.config, citizen.userId, join(out, "gdpr"));
    const summary = JSON.parse(readFileSync(exp.summary, "utf8")) as { conversations: { conversation: string; destroyed: boolean }[] };
    expect(summary.conversations.map((c) => c.conversation)).toEqual(expect.arrayContaining([...rooms, open]));
    const lines = await gdprErase(db, stack.config, citizen.userId, "functionaris gegevensbescherming");
    const kept = lines.find((l) => l.conversation === open);
    expect(kept).toMatchObject({ outcome: "kept" });
    expect(kept?.reason).toMatch(/Archiefwet.*until \d{4}-\d{2}-\d{2}/);
    expect(lines.filter((l) => rooms.includes(l.conversation)).every((l) => l.outcome === "already destroyed")).toBe(true);
    expect((await archivedIn(db, open)).every((r) => (r.content as unknown) !== null)).toBe(true);
  });

  it("the audit log is chained and append-only", async () => {
    const db = fixture.stack.loket.database;
    await audit(db, { actor: "archivaris", action: "archive.export", object: "test", result: "ok" });
    await audit(db, { actor: "archivaris", action: "archive.verify", object: "test", result: "intact" });
    expect(await verifyAudit(db)).toEqual({ count: 2 });
    await expect(db.query("UPDATE archive_audit SET actor = 'iemand anders'")).rejects.toThrow(/append-only/);
    await expect(db.query("DELETE FROM archive_audit")).rejects.toThrow(/append-only/);
  });
});

