// Loket killed with -9 while it greets 30 citizens, then Synapse restarted (so its transaction
// cache, the only guard the SDK had, is gone), then Loket started again: every citizen is
// greeted exactly once. Loket runs as a child process here, so that it can really be killed.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Preset } from "matrix-js-sdk";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { newQuietUser, roomMessages, type TestUser } from "../harness/client.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually } from "../harness/wait.ts";

const fixture = useStack();
const bot = `@gemeente_testdorp:${SERVER_NAME}`;
const CITIZENS = 30;

const greetings = async (user: TestUser, roomId: string): Promise<number> =>
  (await roomMessages(user.client, roomId)).filter((m) => m.sender === bot && m.type === "m.room.message").length;

describe("kill -9 and a Synapse restart", () => {
  it("every citizen is greeted exactly once", async () => {
    const { stack } = fixture;
    await stack.stopLoket();
    const configFile = join(stack.dataDir, "loket-child.yaml");
    writeFileSync(configFile, YAML.stringify({ ...stack.config, logging: { level: "info", file: join(stack.dataDir, "loket-child.log") } }));
    const child = spawn(process.execPath, ["bin/loket.js", "start", "-c", configFile], { stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => { resolve(signal); }));
    try {
      await eventually(async () => ((await fetch(`${stack.config.appservice.public_url}/ready`)).ok ? true : undefined), "the child Loket ready");
      const citizens = await Promise.all(Array.from({ length: CITIZENS }, () => newQuietUser(stack.synapse, "crash")));
      const rooms = await Promise.all(citizens.map(async (c) =>
        (await c.client.createRoom({ is_direct: true, invite: [bot], preset: Preset.TrustedPrivateChat })).room_id));
      // Kill it in the middle: some citizens greeted, others not yet.
      await eventually(async () => {
        const counts = await Promise.all(citizens.map((c, i) => greetings(c, rooms[i] ?? "")));
        return counts.filter((n) => n > 0).length >= 3 ? true : undefined;
      }, "the first greetings", 30_000);
      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
      await stack.synapse.restart();
      await stack.restartLoket();
      await eventually(async () => {
        const counts = await Promise.all(citizens.map((c, i) => greetings(c, rooms[i] ?? "")));
        return counts.every((n) => n > 0) ? true : undefined;
      }, "every citizen greeted", 45_000);
      await stack.loket.idle();
      const counts = await Promise.all(citizens.map((c, i) => greetings(c, rooms[i] ?? "")));
      expect(counts).toEqual(Array(CITIZENS).fill(1));
    } finally {
      child.kill("SIGKILL");
    }
  }, 120_000);
});
