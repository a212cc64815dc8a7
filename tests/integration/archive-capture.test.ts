// The archive on a real Synapse: every event of a citizen's DM is archived once, in order, with
// its media; a restart and a full replay lose and duplicate nothing; verify finds an SQL UPDATE
// and an SQL DELETE and names the record.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { blobPath } from "../../src/archive/blobs.ts";
import { verifyChain } from "../../src/archive/verify.ts";
import { archivedIn, expectArchiveOfDm, readBackOf, roomTimeline, sendRaw, setState } from "../harness/archive.ts";
import { openDm, waitForMessageFrom } from "../harness/client.ts";
import { inboxEvents } from "../harness/inbox.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually } from "../harness/wait.ts";

const fixture = useStack();
const bot = `@gemeente_testdorp:${SERVER_NAME}`;
// A 1x1 PNG.
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

async function archivedAll(roomId: string, ids: string[]) {
  return eventually(async () => {
    const rows = await archivedIn(fixture.stack.loket.database, roomId);
    const have = new Set(rows.map((r) => r.event_id));
    return ids.every((id) => have.has(id)) ? rows : undefined;
  }, "every event archived");
}

describe("archive capture", () => {
  let roomId = "";
  const sent: string[] = [];

  it("archives text, notice, HTML, edit, reaction, redaction, state and an image once, in order", async () => {
    const { stack, citizen } = fixture;
    const c = citizen.client;
    roomId = await openDm(citizen, bot);
    await waitForMessageFrom(c, roomId, bot);
    const text = await sendRaw(c, roomId, "m.room.message", { msgtype: "m.text", body: "Mijn paspoort is verlopen" });
    const notice = await sendRaw(c, roomId, "m.room.message", { msgtype: "m.notice", body: "automatisch bericht" });
    const html = await sendRaw(c, roomId, "m.room.message", { msgtype: "m.text", body: "vet", format: "org.matrix.custom.html", formatted_body: "<b>vet</b>" });
    const edit = await sendRaw(c, roomId, "m.room.message", {
      msgtype: "m.text", body: "* Mijn rijbewijs is verlopen",
      "m.new_content": { msgtype: "m.text", body: "Mijn rijbewijs is verlopen" }, "m.relates_to": { rel_type: "m.replace", event_id: text },
    });
    const reaction = await sendRaw(c, roomId, "m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: notice, key: "👍" } });
    const redaction = (await c.redactEvent(roomId, html, undefined, { reason: "typfout" })).event_id;
    const topic = await setState(c, roomId, "m.room.topic", { topic: "Paspoort" });
    const { content_uri: mxc } = await c.uploadContent(PNG, { type: "image/png", name: "foto.png" });
    const image = await sendRaw(c, roomId, "m.room.message", { msgtype: "m.image", body: "foto.png", url: mxc, info: { mimetype: "image/png", size: PNG.length } });
    sent.push(text, notice, html, edit, reaction, redaction, topic, image);

    const timeline = await roomTimeline(c, roomId);
    const rows = await archivedAll(roomId, timeline.map((e) => e.event_id));
    // Every event of the room is archived exactly once: from the bot's invite on in the room's
    // order, and the room's creation, read back after the bot joined, in its own.
    expect(readBackOf(timeline, bot).size).toBeGreaterThanOrEqual(5);
    expectArchiveOfDm(rows.map((r) => r.event_id), timeline, bot);
    expect(rows.map((r) => r.event_type)).toContain("m.room.member");
    expect(rows.some((r) => r.sender === bot && r.event_type === "m.room.message")).toBe(true);
    // The redacted original is kept as received; the redaction records who, when and why.
    const original = rows.find((r) => r.event_id === html);
    expect((original?.content.content as Record<string, unknown>).formatted_body).toBe("<b>vet</b>");
    const red = rows.find((r) => r.event_id === redaction);
    expect(red?.sender).toBe(citizen.userId);
    expect((red?.content.content as Record<string, unknown>).reason).toBe("typfout");
    expect(red?.content.redacts ?? (red?.content.content as Record<string, unknown>).redacts).toBe(html);
    // Both versions of the edited message are there.
    expect((rows.find((r) => r.event_id === text)?.content.content as Record<string, unknown>).body).toBe("Mijn paspoort is verlopen");
    expect(rows.find((r) => r.event_id === edit)).toBeDefined();

    // The image is downloaded and stored under its SHA-256.
    const media = await eventually(async () => {
      const [m] = await stack.loket.database.query<{ status: string; sha256: string; size: string; mime: string }>(
        "SELECT status, sha256, size::text AS size, mime FROM archive_media WHERE event_id = $1", [image]);
      return m?.status === "stored" ? m : undefined;
    }, "the image stored");
    const sha = createHash("sha256").update(PNG).digest("hex");
    expect(media).toMatchObject({ sha256: sha, size: String(PNG.length), mime: "image/png" });
    expect(readFileSync(blobPath(stack.config.archive.blob_dir, sha)).equals(PNG)).toBe(true);

    const v = await verifyChain(stack.loket.database, "test");
    expect(v.broken).toBeUndefined();
    expect(v.count).toBeGreaterThanOrEqual(rows.length);
  });

  it("loses and duplicates nothing across a restart and a replay of every transaction", async () => {
    const { stack, citizen } = fixture;
    const before = await archivedIn(stack.loket.database, roomId);
    await stack.stopLoket();
    const whileDown = [
      await sendRaw(citizen.client, roomId, "m.room.message", { msgtype: "m.text", body: "Bent u er nog?" }),
      await sendRaw(citizen.client, roomId, "m.room.message", { msgtype: "m.text", body: "Hallo?" }),
    ];
    await stack.restartLoket();
    await archivedAll(roomId, whileDown);
    // At least once: every stored transaction processed again (as after a crash) archives nothing twice.
    await stack.loket.idle();
    await stack.loket.database.query("UPDATE inbox_transactions SET processed_at = NULL");
    await stack.restartLoket();
    await stack.loket.idle();
    const after = await archivedIn(stack.loket.database, roomId);
    expect(after.slice(0, before.length)).toEqual(before);
    // Exactly the two, in the order Loket received them (after an outage Synapse may deliver a
    // room's events in two transactions in either order; each record keeps origin_server_ts).
    const received = (await inboxEvents(stack.loket.database)).map((r) => r.event.event_id).filter((id) => whileDown.includes(id));
    expect(new Set(received)).toEqual(new Set(whileDown));
    // (The bot may answer in between: its own events are archived too, each once.)
    const ids = after.map((r) => r.event_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice(before.length).filter((id) => whileDown.includes(id))).toEqual([...new Set(received)]);
    expect((await verifyChain(stack.loket.database, "test")).broken).toBeUndefined();
  });

  it("verify names the record after an SQL UPDATE and after an SQL DELETE", async () => {
    const reopen = fixture.stack.loket;
    const rows = await archivedIn(reopen.database, roomId);
    const victim = rows[2];
    if (!victim) throw new Error("too few records");
    await reopen.database.query(
      "UPDATE archive_records SET content = jsonb_set(content, '{content,body}', '\"vervalst\"') WHERE event_id = $1", [victim.event_id]);
    const updated = await verifyChain(reopen.database, "test");
    expect(updated.broken).toContain(`#${victim.seq} (${victim.event_id}) was altered`);
    await reopen.database.query("UPDATE archive_records SET content = $2 WHERE event_id = $1", [victim.event_id, JSON.stringify(victim.content)]);
    expect((await verifyChain(reopen.database, "test")).broken).toBeUndefined();

    const gone = rows[4];
    if (!gone) throw new Error("too few records");
    await reopen.database.query("DELETE FROM archive_records WHERE event_id = $1", [gone.event_id]);
    const deleted = await verifyChain(reopen.database, "test");
    expect(deleted.broken).toContain(`record #${gone.seq} is missing (deleted)`);
  });
});
