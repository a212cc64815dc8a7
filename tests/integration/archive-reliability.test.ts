// The archive when things break mid-conversation: the database connection cut (through a TCP
// proxy) exactly while a batch of records is being written, and Loket killed with -9 exactly
// then. Afterwards every event of the room, as Synapse has it, is archived exactly once, in the
// room's order, and `loket archive verify` passes. The proxy's trap holds back the archive's
// INSERT, so the failure hits the archive write itself, not some moment near it.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { archivedIn, expectArchiveOfDm, roomTimeline, type TimelineEvent } from "../harness/archive.ts";
import { openDm, waitForMessageFrom } from "../harness/client.ts";
import { inboxEvents } from "../harness/inbox.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStackOnProxiedDatabase } from "../harness/use-stack.ts";
import { eventually, metricValue } from "../harness/wait.ts";

const bot = `@gemeente_testdorp:${SERVER_NAME}`;
const MESSAGES = 30;
const ARCHIVE_INSERT = "INSERT INTO archive_records";

const fixture = useStackOnProxiedDatabase();


/** Sends the messages one after another; resolves with their ids. */
async function converse(roomId: string, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < MESSAGES; i++) ids.push((await fixture.citizen.client.sendTextMessage(roomId, `${label} ${i}`)).event_id);
  return ids;
}

/** Waits until the room's archive holds as many records as its timeline has events, and returns both. */
async function archiveMatchesTimeline(store: Database, roomId: string, sent: string[]): Promise<{ archived: string[]; timeline: TimelineEvent[] }> {
  return eventually(async () => {
    const archived = (await archivedIn(store, roomId)).map((r) => r.event_id);
    const timeline = await roomTimeline(fixture.citizen.client, roomId);
    return sent.every((id) => archived.includes(id)) && archived.length >= timeline.length ? { archived, timeline } : undefined;
  }, "every event of the room archived", 45_000);
}

/** `loket archive verify` as a child process (asynchronous: the proxy runs in this process). */
async function verifyCli(configFile: string): Promise<{ status: number | null; out: string }> {
  const child = spawn(process.execPath, ["bin/loket.js", "archive", "verify", "-c", configFile]);
  let out = "";
  child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
  child.stderr.on("data", (d: Buffer) => { out += d.toString(); });
  const [status] = await once(child, "exit") as [number | null];
  return { status, out };
}

function writeConfig(name: string): string {
  const file = join(fixture.stack.dataDir, `${name}.yaml`);
  writeFileSync(file, YAML.stringify({ ...fixture.stack.config, logging: { level: "info", file: join(fixture.stack.dataDir, `${name}.log`) } }));
  return file;
}

describe("archive under failure", () => {
  let roomId = "";

  it("a database cut while records are written loses and duplicates nothing", async () => {
    const { stack, citizen, proxy } = fixture;
    roomId = await openDm(citizen, bot);
    await waitForMessageFrom(citizen.client, roomId, bot);
    await stack.loket.idle();

    const trapped = proxy.trap(ARCHIVE_INSERT, 3);
    const sending = converse(roomId, "Bericht tijdens de storing");
    await trapped;
    await proxy.cut();
    const sent = await sending;
    // Synapse pushed messages that Loket could not store: the outage was seen from both sides.
    await eventually(async () => {
      const text = await (await fetch(`${stack.loket.url}/metrics`)).text();
      return metricValue(text, 'loket_transactions_total{outcome="failed"}') >= 1 ? true : undefined;
    }, "a failed transaction");
    await proxy.restore();

    const { archived, timeline } = await archiveMatchesTimeline(stack.loket.database, roomId, sent);
    await stack.loket.idle();
    expectArchiveOfDm(archived, timeline, bot);
    const verify = await verifyCli(writeConfig("verify-after-cut"));
    expect(verify.out).toContain("intact");
    expect(verify.status).toBe(0);
  }, 120_000);

  it("Loket killed with -9 while records are written loses and duplicates nothing", async () => {
    const { stack, proxy, database } = fixture;
    // The test reads the database directly, past the proxy.
    const direct = await openDatabase({ url: database.url, dataDir: "", poolSize: 2 });
    await stack.stopLoket();
    const configFile = writeConfig("loket-child");
    const child = spawn(process.execPath, ["bin/loket.js", "start", "-c", configFile], { stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => { resolve(signal); }));
    try {
      await eventually(async () => ((await fetch(`${stack.config.appservice.public_url}/ready`)).ok ? true : undefined), "the child Loket ready");
      const trapped = proxy.trap(ARCHIVE_INSERT, 3);
      const sending = converse(roomId, "Bericht voor de crash");
      await trapped;
      // Every message reaches Loket's inbox while one archive write hangs: events that were
      // (wrongly) marked processed without their record would be marked by now.
      const sent = await sending;
      await eventually(async () => {
        const stored = new Set((await inboxEvents(direct)).map((r) => r.event.event_id));
        return sent.every((id) => stored.has(id)) ? true : undefined;
      }, "every message in the inbox");
      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
      // Drop the connection the trap froze (PostgreSQL then rolls its transaction back).
      await proxy.cut();
      await proxy.restore();

      await stack.restartLoket();
      const { archived, timeline } = await archiveMatchesTimeline(direct, roomId, sent);
      await stack.loket.idle();
      expectArchiveOfDm(archived, timeline, bot);
      const verify = await verifyCli(configFile);
      expect(verify.out).toContain("intact");
      expect(verify.status).toBe(0);
    } finally {
      child.kill("SIGKILL");
      await direct.close();
    }
  }, 120_000);
});
