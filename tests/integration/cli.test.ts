// The `loket` command as an operator runs it: exit codes, messages, files written, signals.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { REPO_ROOT } from "../harness/paths.ts";

const dir = mkdtempSync(join(tmpdir(), "loket-cli-"));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const loket = (...args: string[]) =>
  spawnSync(process.execPath, [join(REPO_ROOT, "bin/loket.js"), ...args], { encoding: "utf8", env: { ...process.env, LOKET_CONFIG: undefined } });

function writeConfig(name: string, config: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, YAML.stringify(config));
  return file;
}

const good = {
  homeserver: { url: "http://127.0.0.1:9", domain: "gemeente.test" },
  appservice: { port: 0, as_token: "3c5e7a9b1d2f4e6a", hs_token: "8b0d2f4a6c8e1b3d" },
  database: { data_dir: join(dir, "pglite") },
  municipalities: [{ id: "voorbeeld", name: "Gemeente Voorbeeld", bot_localpart: "gemeente_voorbeeld" }],
};

describe("loket config check", () => {
  it("accepts a valid config", () => {
    const res = loket("config", "check", "-c", writeConfig("good.yaml", good));
    expect(res.stdout).toContain(": ok");
    expect(res.status).toBe(0);
  });

  it("names every bad key path and exits 1", () => {
    const file = writeConfig("bad.yaml", {
      homeserver: { url: "nope", domain: "gemeente.test" },
      appservice: { port: "eighty", hs_token: "CHANGE_ME", default_municipality: "elders" },
      municipalities: [{ id: "voorbeeld", name: "Gemeente Voorbeeld", bot_localpart: "gemeente_voorbeeld", staff: ["@Bad Id"] }],
    });
    const res = loket("config", "check", "-c", file);
    expect(res.status).toBe(1);
    for (const key of ["homeserver.url", "appservice.port", "appservice.as_token", "appservice.hs_token", "appservice.default_municipality", "municipalities.0.staff.0"]) {
      expect(res.stderr).toContain(`  ${key}: `);
    }
  });

  it("exits 1 on a missing file and on an unknown command", () => {
    expect(loket("config", "check", "-c", join(dir, "missing.yaml")).status).toBe(1);
    expect(loket("frobnicate").status).toBe(1);
  });
});

describe("loket registration", () => {
  it("writes the registration Synapse needs", () => {
    const out = join(dir, "registration.yaml");
    const res = loket("registration", "-c", writeConfig("reg.yaml", good), "-o", out);
    expect(res.status).toBe(0);
    const reg = YAML.parse(readFileSync(out, "utf8")) as Record<string, unknown>;
    expect(reg).toMatchObject({ id: "loket", as_token: good.appservice.as_token, hs_token: good.appservice.hs_token, sender_localpart: "loket", rate_limited: false, receive_ephemeral: true });
  });

  it("refuses placeholder tokens, and generates them into the config only when asked", () => {
    const file = writeConfig("gen.yaml", { ...good, appservice: { port: 0, as_token: "CHANGE_ME", hs_token: "CHANGE_ME" } });
    const out = join(dir, "gen-registration.yaml");
    expect(loket("registration", "-c", file, "-o", out).status).toBe(1);
    const res = loket("registration", "-c", file, "-o", out, "--generate-tokens");
    expect(res.status).toBe(0);
    expect(res.stdout).toContain("generated appservice.as_token");
    const config = YAML.parse(readFileSync(file, "utf8")) as { appservice: { as_token: string; hs_token: string } };
    expect(config.appservice.as_token).toMatch(/^[0-9a-f]{64}$/);
    const reg = YAML.parse(readFileSync(out, "utf8")) as { as_token: string; hs_token: string };
    expect(reg.as_token).toBe(config.appservice.as_token);
    expect(reg.hs_token).toBe(config.appservice.hs_token);
    expect(reg.as_token).not.toBe(reg.hs_token);
  });
});

describe("loket config sample", () => {
  it("prints the committed sample", () => {
    const res = loket("config", "sample");
    expect(res.status).toBe(0);
    expect(res.stdout).toBe(readFileSync(join(REPO_ROOT, "config/config.sample.yaml"), "utf8"));
  });
});

describe("loket start", () => {
  it("logs JSON without tokens, serves /ready, and stops cleanly on SIGTERM", async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin/loket.js"), "start", "-c", writeConfig("start.yaml", good)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const m = /"port":(\d+),"address".*"msg":"Loket listening"/.exec(out);
        if (m?.[1]) resolve(Number(m[1]));
      });
      child.on("exit", (code) => { reject(new Error(`exited early with ${code}: ${out}`)); });
    });
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const lines = out.trim().split("\n").map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toContain("Loket stopped");
    // The homeserver is unreachable here: Loket says so clearly, and never logs a token.
    expect(out).toContain("the homeserver cannot reach Loket");
    expect(out).not.toContain(good.appservice.as_token);
    expect(out).not.toContain(good.appservice.hs_token);
  });
});
