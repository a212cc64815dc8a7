// The deployment files: docker-compose.yml against the Compose Specification's JSON schema, every
// file it mounts present in the repo, the Dockerfile's and systemd unit's promises, and the
// sample registration in step with the sample config.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2019 } from "ajv/dist/2019.js";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { renderSampleRegistration } from "../../src/config/sample-registration.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), "utf8");

interface Service { build?: unknown; image?: string; volumes?: string[]; healthcheck?: unknown; user?: string }
const compose = YAML.parse(read("docker-compose.yml")) as { services: Record<string, Service>; volumes: Record<string, unknown> };

function dropIdLabels(node: unknown): void {
  if (typeof node !== "object" || node === null) return;
  const record = node as Record<string, unknown>;
  if (typeof record.id === "string") delete record.id;
  for (const value of Object.values(record)) dropIdLabels(value);
}

describe("docker-compose.yml", () => {
  it("is valid by the Compose Specification's JSON schema", () => {
    const schema = JSON.parse(read("tests/fixtures/compose-spec/compose-spec.json")) as Record<string, unknown>;
    // Its "$schema" is the http:// form of draft 2019-09, which Ajv knows under https://, and it
    // labels subschemas with draft-04 "id" strings, which later drafts (and Ajv) do not allow.
    delete schema.$schema;
    dropIdLabels(schema);
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // The validator does catch mistakes: a misspelled service key fails.
    expect(validate({ services: { loket: { imgae: "loket" } } })).toBe(false);
  });

  it("runs PostgreSQL, a pinned Synapse, Loket from the Dockerfile, and Element Web as an option", () => {
    expect(compose.services.synapse?.image).toMatch(/^matrixdotorg\/synapse:v\d+\.\d+\.\d+$/);
    expect(compose.services.postgres?.image).toMatch(/^postgres:\d+/);
    expect(compose.services.loket?.build).toBe(".");
    expect(compose.services["loket-init"]?.build).toBe(".");
    expect(compose.services.element).toMatchObject({ profiles: ["element"] });
  });

  it("mounts only files that are in the repo, and named volumes it declares", () => {
    const binds: string[] = [];
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(":")[0] ?? "";
        if (source.startsWith("./")) binds.push(source);
        else expect(compose.volumes, `${name}: volume ${source}`).toHaveProperty([source]);
      }
    }
    expect(binds.length).toBeGreaterThanOrEqual(7);
    for (const source of binds) expect(existsSync(join(ROOT, source)), source).toBe(true);
  });

  it("loads Loket's registration into the shipped Synapse config", () => {
    const homeserver = YAML.parse(read("deploy/compose/synapse/homeserver.yaml")) as { app_service_config_files: string[] };
    expect(homeserver.app_service_config_files).toEqual(["/registration/loket-registration.yaml"]);
    expect(read("deploy/compose/init.sh")).toContain("-o /registration/loket-registration.yaml");
  });
});

describe("Dockerfile", () => {
  const dockerfile = read("Dockerfile");
  it("is multi-stage, installs production dependencies only, and runs as a non-root user", () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const user = /^USER (\S+)$/m.exec(dockerfile)?.[1];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it("checks /ready and lets SIGTERM reach Node", () => {
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/ready/m);
    // An init process as PID 1 forwards signals; Node itself as PID 1 would ignore SIGTERM's default.
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--", "node", /m);
  });
});

describe("deploy/loket.service", () => {
  it("runs Loket as its own user with systemd's hardening options", () => {
    const unit = read("deploy/loket.service");
    for (const option of ["DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes", "CapabilityBoundingSet=", "SystemCallFilter=@system-service", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "KillSignal=SIGTERM"]) {
      expect(unit).toContain(`\n${option}`);
    }
  });
});

describe("registration.yaml (sample)", () => {
  it("matches the sample config (regenerate with npm run generate)", () => {
    expect(read("registration.yaml")).toBe(renderSampleRegistration());
    expect(read("registration.yaml")).toMatch(/^# SAMPLE appservice registration/);
  });
});
