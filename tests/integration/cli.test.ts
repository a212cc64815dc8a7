// The `loket` command as an operator runs it: exit codes, messages, files written, signals.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { REPO_ROOT } from "../harness/paths.ts";

const dir = mkdtempSync(join(tmpdir(), "loket-cli-"));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const loket = (...args: string[]) => loketWithEnv({}, ...args);
const loketWithEnv = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  spawnSync(process.execPath, [join(REPO_ROOT, "bin/loket.js"), ...args], { encoding: "utf8", timeout: 60_000, env: { ...process.env, LOKET_CONFIG: undefined, ...env } });

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

describe("loket config check: strict about keys and sources", () => {
  it("refuses misspelled keys with the nearest known key", () => {
    const file = writeConfig("typos.yaml", { ...good, municipalites: [], homeserver: { ...good.homeserver, ulr: "http://x" }, loging: { level: "info" } });
    const res = loket("config", "check", "-c", file);
    expect(res.status).toBe(1);
    expect(res.stdout).not.toContain("ok");
    expect(res.stderr).toContain("  municipalites: unknown configuration key; did you mean 'municipalities'?");
    expect(res.stderr).toContain("  homeserver.ulr: unknown configuration key; did you mean 'url'?");
    expect(res.stderr).toContain("  loging: unknown configuration key; did you mean 'logging'?");
  });

  it("names the environment variable a bad value came from", () => {
    const res = loketWithEnv({ LOKET_APPSERVICE__PORT: "abc" }, "config", "check", "-c", writeConfig("env.yaml", good));
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/ {2}appservice\.port: .*\(from environment variable LOKET_APPSERVICE__PORT\)/);
  });

  it("a missing secret file gives one error line", () => {
    const file = writeConfig("secret-file.yaml", { ...good, appservice: { port: 0, hs_token: good.appservice.hs_token, as_token_file: join(dir, "no-such-secret") } });
    const res = loket("config", "check", "-c", file);
    expect(res.status).toBe(1);
    expect(res.stderr.trim().split("\n")).toEqual(["invalid configuration:", expect.stringMatching(/^ {2}appservice\.as_token_file: cannot read secret file: ENOENT/)]);
  });
});

describe("loket --version and --help", () => {
  it("prints the version", () => {
    const res = loket("--version");
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    expect(res.status).toBe(0);
    expect(res.stdout.trim()).toBe(`loket ${pkg.version}`);
  });

  it("shows the options of each command", () => {
    for (const [args, option] of [[["start"], "--allow-unknown-keys"], [["registration"], "--generate-tokens"], [["config", "check"], "--config FILE"], [["config", "sample"], "--output FILE"], [["migrate"], "--config FILE"], [["demo"], "--host ADDR"], [["crypto", "status"], "--json"]] as const) {
      const res = loket(...args, "--help");
      expect(res.status).toBe(0);
      expect(res.stdout).toContain(`Usage: loket ${args.join(" ")}`);
      expect(res.stdout).toContain(option);
    }
  });

  it("an unknown option says so briefly, without the whole usage", () => {
    const res = loket("start", "--bogus");
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/^loket: Unknown option '--bogus'/);
    expect(res.stderr).not.toContain("Commands:");
  });
});

describe("loket start: clear start-up errors", () => {
  it("refuses unknown keys unless --allow-unknown-keys is given", () => {
    const res = loket("start", "-c", writeConfig("start-typo.yaml", { ...good, loging: {} }));
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("  loging: unknown configuration key; did you mean 'logging'?");
  });

  it("an unreachable PostgreSQL is one line naming database.url, password redacted, exit 2", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => { resolve(port); });
      });
    });
    const url = `postgres://loket:UserinfoPw@127.0.0.1:${closedPort}/loket?password=QueryPw&sslpassword=KeyPw`;
    const res = loket("start", "-c", writeConfig("start-db.yaml", { ...good, database: { url }, logging: { file: join(dir, "start-db.log") } }));
    expect(res.status).toBe(2);
    expect(res.stderr.trim()).toBe(`loket: cannot use the PostgreSQL database at database.url postgres://loket:[redacted]@127.0.0.1:${closedPort}/loket?password=[redacted]&sslpassword=[redacted]: connect ECONNREFUSED 127.0.0.1:${closedPort}`);
    expect(readFileSync(join(dir, "start-db.log"), "utf8")).not.toMatch(/UserinfoPw|QueryPw|KeyPw/);
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

  it("--generate-tokens leaves the config 0600 with its comments where they were", () => {
    const file = join(dir, "commented.yaml");
    const text = YAML.stringify({ ...good, appservice: { port: 0, as_token: "CHANGE_ME", hs_token: "CHANGE_ME" } })
      .replace("homeserver:", "# Our homeserver\nhomeserver:")
      .replace("  as_token:", "  # filled in by loket\n  as_token:");
    writeFileSync(file, text, { mode: 0o644 });
    chmodSync(file, 0o644);
    const out = join(dir, "commented-registration.yaml");
    writeFileSync(out, "old", { mode: 0o644 });
    chmodSync(out, 0o644);
    expect(loket("registration", "-c", file, "-o", out, "--generate-tokens").status).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const after = readFileSync(file, "utf8");
    expect(after).toMatch(/^# Our homeserver\nhomeserver:/);
    expect(after).toMatch(/ {2}# filled in by loket\n {2}as_token: [0-9a-f]{64}\n/);
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
    const config = { ...good, colour: "blue" };
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin/loket.js"), "start", "--allow-unknown-keys", "-c", writeConfig("start.yaml", config)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const m = /"port":(\d+),"address".*"msg":"Loket listening"/.exec(out);
        // The homeserver is unreachable here: wait for the ping to say so.
        if (m?.[1] && out.includes("Loket cannot reach the homeserver")) resolve(Number(m[1]));
      });
      child.on("exit", (code) => { reject(new Error(`exited early with ${code}: ${out}`)); });
    });
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const lines = out.trim().split("\n").map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toContain("Loket stopped");
    expect(out).toContain('"msg":"colour: unknown configuration key"');
    // The homeserver is unreachable: Loket names homeserver.url, not public_url, and never logs a token.
    expect(out).toContain("Loket cannot reach the homeserver at homeserver.url http://127.0.0.1:9 ");
    expect(out).not.toContain("the homeserver cannot reach Loket");
    expect(out).not.toContain(good.appservice.as_token);
    expect(out).not.toContain(good.appservice.hs_token);
  });
});

describe("loket start against a homeserver that answers the ping with an error", () => {
  let fake: Server | undefined;
  afterAll(() => { fake?.close(); });

  it("names the registration and tokens, not homeserver.url", async () => {
    fake = createServer((req, res) => {
      const unknownToken = { errcode: "M_UNKNOWN_TOKEN", error: "Unrecognised access token" };
      res.writeHead(req.url?.includes("/appservice/loket/ping") ? 401 : 404, { "content-type": "application/json" }).end(JSON.stringify(unknownToken));
    });
    await new Promise<void>((resolve) => fake?.listen(0, "127.0.0.1", resolve));
    const hsUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    const config = { ...good, homeserver: { ...good.homeserver, url: hsUrl } };
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin/loket.js"), "start", "-c", writeConfig("start-401.yaml", config)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("refused Loket's as_token")) resolve();
      });
      child.on("exit", (code) => { reject(new Error(`exited early with ${code}: ${out}`)); });
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(out).toMatch(/"level":50.*"msg":"the homeserver at http:\/\/127\.0\.0\.1:\d+ refused Loket's as_token .*app_service_config_files/);
    expect(out).not.toContain("Loket cannot reach the homeserver");
  });
});

describe("loket demo: a busy port", () => {
  it("gives the clear message only, and creates no demo folder", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    try {
      const port = (busy.address() as AddressInfo).port;
      const demoDir = join(dir, "demo-busy");
      const res = loket("demo", "--port", String(port), "--dir", demoDir);
      expect(res.status).toBe(1);
      expect(res.stderr.trim()).toBe(`loket: port ${port} on 127.0.0.1 is in use (another homeserver, or a demo still running?); choose another with --port`);
      expect(existsSync(demoDir)).toBe(false);
    } finally {
      busy.close();
    }
  });
});
