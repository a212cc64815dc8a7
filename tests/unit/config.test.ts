import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as yamlParse } from "yaml";
import { ConfigError, loadConfigFile, parseConfig } from "../../src/config/load.ts";
import { nonDefaultSettings } from "../../src/config/describe.ts";
import { renderSampleConfig } from "../../src/config/sample.ts";

const valid = {
  homeserver: { url: "http://localhost:8008", domain: "example.nl" },
  appservice: { as_token: "a".repeat(32), hs_token: "h".repeat(32) },
  municipalities: [{ id: "utrecht", name: "Gemeente Utrecht", bot_localpart: "gemeente_utrecht" }],
};

// One temporary folder for the whole file, removed afterwards (no loket-cfg-* left behind).
const tmp = mkdtempSync(join(tmpdir(), "loket-cfg-"));
afterAll(() => { rmSync(tmp, { recursive: true, force: true }); });
let dirs = 0;
const tempDir = (): string => mkdtempSync(join(tmp, `t${++dirs}-`));

function problemsOf(raw: unknown, env: NodeJS.ProcessEnv = {}): Record<string, string> {
  try {
    parseConfig(raw, env);
  } catch (err) {
    if (err instanceof ConfigError) return Object.fromEntries(err.problems.map((p) => [p.path, p.message]));
    throw err;
  }
  return {};
}

describe("config", () => {
  it("fills defaults and freezes the result", () => {
    const { config } = parseConfig(valid);
    expect(config.appservice.port).toBe(9993);
    expect(config.database.url).toBe("");
    expect(config.municipalities[0]?.language).toBe("nl");
    expect(Object.isFrozen(config.appservice)).toBe(true);
  });

  it("names every bad key path at once", () => {
    const problems = problemsOf({
      homeserver: { url: "not a url", domain: "example.nl" },
      appservice: { port: "abc", hs_token: "CHANGE_ME", default_municipality: "amsterdam" },
      municipalities: [{ id: "utrecht", name: "U", bot_localpart: "Bad Bot", staff: ["alice"] }],
    });
    expect(Object.keys(problems).sort()).toEqual([
      "appservice.as_token",
      "appservice.default_municipality",
      "appservice.hs_token",
      "appservice.port",
      "homeserver.url",
      "municipalities.0.bot_localpart",
      "municipalities.0.staff.0",
    ]);
    expect(problems["appservice.as_token"]).toBe("missing (required)");
    expect(problems["appservice.hs_token"]).toMatch(/placeholder/);
    expect(problems["appservice.default_municipality"]).toMatch(/unknown municipality 'amsterdam'/);
    expect(problems["municipalities.0.staff.0"]).toMatch(/Matrix user id/);
  });

  it("refuses duplicate municipalities and bots that clash with reserved names", () => {
    const m = { id: "utrecht", name: "U", bot_localpart: "gemeente_utrecht" };
    const problems = problemsOf({ ...valid, municipalities: [m, m, { id: "x", name: "X", bot_localpart: "loket" }] });
    expect(problems["municipalities.1.id"]).toMatch(/duplicate/);
    expect(problems["municipalities.1.bot_localpart"]).toMatch(/already used/);
    expect(problems["municipalities.2.bot_localpart"]).toMatch(/sender_localpart/);
  });

  it("refuses unknown keys and suggests the nearest known key", () => {
    const problems = problemsOf({
      ...valid,
      municipalites: [],
      homeserver: { ...valid.homeserver, ulr: "http://hs:8008" },
      loging: { level: "debug" },
      colour: "blue",
    });
    expect(problems).toEqual({
      municipalites: "unknown configuration key; did you mean 'municipalities'?",
      "homeserver.ulr": "unknown configuration key; did you mean 'url'?",
      loging: "unknown configuration key; did you mean 'logging'?",
      colour: "unknown configuration key",
    });
  });

  it("with allowUnknownKeys, unknown keys are only warnings", () => {
    const { warnings } = parseConfig({ ...valid, colour: "blue", appservice: { ...valid.appservice, prot: 1 } }, {}, { allowUnknownKeys: true });
    expect(warnings.sort()).toEqual(["appservice.prot: unknown configuration key; did you mean 'port'?", "colour: unknown configuration key"]);
  });

  it("names the environment variable a bad value came from", () => {
    const problems = problemsOf(valid, { LOKET_APPSERVICE__PORT: "abc", LOKET_HOMESERVER__URL: "nope" });
    expect(problems["appservice.port"]).toMatch(/\(from environment variable LOKET_APPSERVICE__PORT\)$/);
    expect(problems["homeserver.url"]).toMatch(/\(from environment variable LOKET_HOMESERVER__URL\)$/);
    expect(problemsOf({ ...valid, appservice: { ...valid.appservice, port: "abc" } })["appservice.port"]).not.toMatch(/environment/);
  });

  it("a missing secret file is one problem, not also a missing key", () => {
    const problems = problemsOf({ ...valid, appservice: { hs_token: valid.appservice.hs_token, as_token_file: "/nonexistent/as_token" } });
    expect(problems).toEqual({ "appservice.as_token_file": expect.stringMatching(/cannot read secret file/) as unknown });
    const fromEnv = problemsOf(valid, { LOKET_APPSERVICE__AS_TOKEN_FILE: "/nonexistent/as_token" });
    expect(Object.keys(fromEnv)).toEqual(["appservice.as_token_file"]);
  });

  it("applies LOKET_ environment overrides with types from the schema", () => {
    const { config } = parseConfig(valid, {
      LOKET_APPSERVICE__PORT: "9100",
      LOKET_METRICS__ENABLED: "false",
      LOKET_DATABASE__URL: "postgres://x@db/loket",
      LOKET_MUNICIPALITIES__0__NAME: "Gemeente Utreg",
    });
    expect(config.appservice.port).toBe(9100);
    expect(config.metrics.enabled).toBe(false);
    expect(config.database.url).toBe("postgres://x@db/loket");
    expect(config.municipalities[0]?.name).toBe("Gemeente Utreg");
  });

  it("reads secrets from *_file keys and LOKET_*_FILE variables", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "as"), "as-secret-from-file\n");
    writeFileSync(join(dir, "hs"), "hs-secret-from-file\n");
    const { config } = parseConfig(
      { ...valid, appservice: { as_token_file: join(dir, "as") } },
      { LOKET_APPSERVICE__HS_TOKEN_FILE: join(dir, "hs") },
    );
    expect(config.appservice.as_token).toBe("as-secret-from-file");
    expect(config.appservice.hs_token).toBe("hs-secret-from-file");
  });

  it("reports an unreadable file and invalid YAML as problems", () => {
    expect(() => loadConfigFile("/nonexistent/loket.yaml")).toThrow(/cannot read config file/);
    const dir = tempDir();
    writeFileSync(join(dir, "bad.yaml"), "homeserver: [unclosed");
    expect(() => loadConfigFile(join(dir, "bad.yaml"))).toThrow(/not valid YAML/);
  });

  it("committed sample config matches the schema (regenerate with npm run generate)", () => {
    const committed = readFileSync(new URL("../../config/config.sample.yaml", import.meta.url), "utf8");
    expect(committed).toBe(renderSampleConfig());
  });

  it("the sample itself is valid once real tokens are set", () => {
    const { config } = parseConfig(yamlParse(renderSampleConfig()), {
      LOKET_APPSERVICE__AS_TOKEN: "4f1c0e2b9a7d",
      LOKET_APPSERVICE__HS_TOKEN: "8e3a5d7c1b0f",
      LOKET_CRYPTO__STORE_KEY: "9d2e4f6a8c0b1d3e5f7a",
      LOKET_CRYPTO__BACKUP_KEY: "CLLoULDnHwJDZs1jMvWyueOvVtTc0iMOeF9Rh8B18+w",
    });
    expect(config.municipalities[0]?.departments[0]?.staff).toEqual(["@medewerker:example.nl"]);
  });
});

describe("effective configuration for the log", () => {
  it("lists the keys that differ from their defaults, secrets redacted", () => {
    const { config } = parseConfig({ ...valid, appservice: { ...valid.appservice, port: 9100 } });
    const settings = nonDefaultSettings(config);
    expect(settings).toMatchObject({
      "homeserver.domain": "example.nl",
      "appservice.port": 9100,
      "appservice.as_token": "[redacted]",
      "appservice.hs_token": "[redacted]",
    });
    expect(settings).not.toHaveProperty("appservice.bind_address");
    expect(JSON.stringify(settings)).not.toContain(valid.appservice.as_token);
  });
});

describe("config edge cases", () => {
  it("refuses a number variable that is blank or not decimal", () => {
    expect(problemsOf(valid, { LOKET_APPSERVICE__PORT: "" })).toHaveProperty(["appservice.port"]);
    expect(problemsOf(valid, { LOKET_APPSERVICE__PORT: "0x2710" })).toHaveProperty(["appservice.port"]);
  });

  it("an environment variable beats a *_file key from the file; both in the file is a problem", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "hs"), "from-file-123");
    const { config } = parseConfig({ ...valid, appservice: { ...valid.appservice, hs_token: undefined, hs_token_file: join(dir, "hs") } }, { LOKET_APPSERVICE__HS_TOKEN: "from-env-456" });
    expect(config.appservice.hs_token).toBe("from-env-456");
    const both = problemsOf({ ...valid, appservice: { ...valid.appservice, hs_token_file: join(dir, "hs") } });
    expect(both["appservice.hs_token_file"]).toMatch(/either hs_token or hs_token_file/);
    // LOKET_*_FILE beats a value in the YAML too; both variables at once is a problem.
    const fromFile = parseConfig(valid, { LOKET_APPSERVICE__HS_TOKEN_FILE: join(dir, "hs") });
    expect(fromFile.config.appservice.hs_token).toBe("from-file-123");
    const bothEnv = problemsOf(valid, { LOKET_APPSERVICE__HS_TOKEN: "abcdef123456", LOKET_APPSERVICE__HS_TOKEN_FILE: join(dir, "hs") });
    expect(bothEnv["appservice.hs_token_file"]).toMatch(/either LOKET_APPSERVICE__HS_TOKEN or LOKET_APPSERVICE__HS_TOKEN_FILE/);
  });

  it("keeps the appservice user out of the virtual-user namespace", () => {
    const problems = problemsOf({ ...valid, appservice: { ...valid.appservice, sender_localpart: "loket_bot" } });
    expect(problems["appservice.sender_localpart"]).toMatch(/user_prefix/);
  });

  it("redacts credentials in a database URL's query parameters and userinfo", () => {
    for (const [url, shown] of [
      ["postgres://loket@db/loket?password=S3cretPw", "postgres://loket@db/loket?password=[redacted]"],
      ["postgres://loket:S3cretPw@db/loket?sslmode=verify-full&sslpassword=S3cretPw&sslkey=/keys/S3cretPw.key", "postgres://loket:[redacted]@db/loket?sslmode=verify-full&sslpassword=[redacted]&sslkey=[redacted]"],
      ["host=db user=loket password=S3cretPw dbname=loket", "host=db user=loket password=[redacted] dbname=loket"],
    ]) {
      const settings = nonDefaultSettings(parseConfig({ ...valid, database: { url } }).config);
      expect(settings["database.url"]).toBe(shown);
      expect(JSON.stringify(settings)).not.toContain("S3cretPw");
    }
    // URLs without credentials are shown as written.
    expect(nonDefaultSettings(parseConfig({ ...valid, homeserver: { ...valid.homeserver, url: "http://hs:8008" } }).config)["homeserver.url"]).toBe("http://hs:8008");
  });

  it("redacts the password of a database URL in the start-up log", () => {
    const { config } = parseConfig({ ...valid, database: { url: "postgres://loket:S3cretPw@db.internal/loket" } });
    const settings = nonDefaultSettings(config);
    expect(settings["database.url"]).toBe("postgres://loket:[redacted]@db.internal/loket");
    expect(JSON.stringify(settings)).not.toContain("S3cretPw");
  });
});
