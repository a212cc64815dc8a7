// `loket demo` as a newcomer runs it: it prints a homeserver URL and logins; a Matrix client
// with encryption (as Element) logs in with them, opens an encrypted DM with the municipality and
// is greeted, encrypted by the bot's own device; its first question gets the office-hours answer
// (the auto-reply outside the demo's hours, a receipt inside); Ctrl-C stops it.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { createClient, Preset } from "matrix-js-sdk";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { parseConfig } from "../../src/config/load.ts";
import { freePort } from "../../src/devserver/ports.ts";
import { hoursFor } from "../../src/office-hours/index.ts";
import { REPO_ROOT } from "../harness/paths.ts";
import { quiet, startSyncing, waitForEvent } from "../harness/client.ts";
import { waitForDecrypted } from "../harness/crypto-client.ts";

const dir = mkdtempSync(join(tmpdir(), "loket-demo-"));
let demo: ChildProcessByStdio<null, Readable, Readable> | undefined;
afterAll(() => {
  demo?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("loket demo", () => {
  // --host with another loopback address: the demo is reached there (as a phone would reach a
  // LAN address), and it warns about its fixed passwords.
  it("prints logins that a client can use to get the greeting, and stops on Ctrl-C", async () => {
    const port = await freePort();
    const host = "127.0.0.2";
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin/loket.js"), "demo", "--port", String(port), "--host", host, "--dir", join(dir, "demo")], { stdio: ["ignore", "pipe", "pipe"] });
    demo = child;
    let out = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("Press Ctrl-C to stop.")) resolve();
      });
      child.stderr.on("data", (chunk: Buffer) => { out += chunk.toString(); });
      child.on("exit", (code) => { reject(new Error(`demo exited with ${code}:\n${out}`)); });
    });

    const baseUrl = /Homeserver URL\s+(\S+)/.exec(out)?.[1];
    const [, citizen, password] = /Citizen login\s+(\S+)\s+password: (\S+)/.exec(out) ?? [];
    const bot = /bot (@\S+)/.exec(out)?.[1];
    expect(baseUrl).toBe(`http://${host}:${port}`);
    expect(out).toMatch(/WARNING: this demo listens on 127\.0\.0\.2 and uses fixed, published passwords/);
    expect(out).toMatch(/Staff login\s+@medewerker:localhost\s+password: \S+/);
    expect(out).toMatch(/Encryption\s+on: encrypted DMs work/);
    if (!baseUrl || !citizen || !password || !bot) throw new Error(`unexpected demo output:\n${out}`);

    const client = createClient({ baseUrl, logger: quiet });
    const login = await client.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: citizen }, password });
    const me = createClient({ baseUrl, accessToken: login.access_token, userId: login.user_id, deviceId: login.device_id, logger: quiet });
    await me.initRustCrypto({ useIndexedDB: false });
    await startSyncing(me);
    // The printed service desk is in the room directory; the space resolves too.
    const desk = /Service desk\s+(#\S+)/.exec(out)?.[1] ?? "";
    const space = /Space\s+(#\S+)/.exec(out)?.[1] ?? "";
    const deskId = (await me.getRoomIdForAlias(desk)).room_id;
    expect((await me.publicRooms({})).chunk.map((r) => r.room_id)).toContain(deskId);
    expect((await me.getRoomIdForAlias(space)).room_id).toMatch(/^!/);
    // As Element opens a DM: encrypted from the start.
    const { room_id: roomId } = await me.createRoom({
      is_direct: true, invite: [bot], preset: Preset.TrustedPrivateChat,
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    });
    const sealed = await waitForEvent(me, roomId, (e) => e.getSender() === bot && e.getWireType() === "m.room.encrypted");
    expect(String(sealed.getWireContent().device_id)).toMatch(/^LOKET/);
    const greeting = await waitForDecrypted(me, roomId, sealed.getId() ?? "");
    expect(greeting.isDecryptionFailure()).toBe(false);
    expect(greeting.getContent().body).toMatch(/^Welkom bij Gemeente Voorbeeld\.[\s\S]*VOORBEELD-\d{4}-000001/);

    // The demo has office hours: the first question is answered with the promise of an answer.
    const { config } = parseConfig(YAML.parse(readFileSync(join(dir, "demo", "config.yaml"), "utf8")));
    const { schedule } = hoursFor(config, "voorbeeld");
    const asked = new Date();
    await me.sendTextMessage(roomId, "Wanneer kan ik mijn paspoort ophalen?");
    const sealedReply = await waitForEvent(me, roomId, (e) => e.getSender() === bot && e.getWireType() === "m.room.encrypted" && e.getId() !== sealed.getId());
    const reply = String((await waitForDecrypted(me, roomId, sealedReply.getId() ?? "")).getContent().body);
    const answered = new Date();
    const expected = schedule.isOpen(asked) && schedule.isOpen(answered)
      ? /^Bedankt voor uw bericht\. U bent nummer 1 in de wachtrij\. U krijgt uiterlijk .+ antwoord\. Uw referentie: VOORBEELD-\d{4}-000001\.$/
      : !schedule.isOpen(asked) && !schedule.isOpen(answered)
        ? /^We zijn nu gesloten\. Vanaf .+ zijn we er weer\. U krijgt uiterlijk .+ antwoord\. Uw referentie: VOORBEELD-\d{4}-000001\.$/
        : /Uw referentie: VOORBEELD-\d{4}-000001\.$/; // asked just as the desk opened or closed
    expect(reply).toMatch(expected);
    me.stopClient();

    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    demo = undefined;
  });
});
