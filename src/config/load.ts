// Loads the configuration: YAML file, then LOKET_A__B environment overrides, then `*_file`
// secrets, then the schema and the cross-key checks. Unknown keys are problems (with the nearest
// known key as a hint) unless explicitly allowed. The result is typed and frozen.
import { readFileSync } from "node:fs";
import YAML from "yaml";
import { z } from "zod";
import { crossChecks } from "./checks.ts";
import { applyEnv, envSourceOf } from "./env.ts";
import { childOf, metaOf, unwrap } from "./introspect.ts";
import { configSchema, type Config } from "./schema.ts";
import { nearest } from "./suggest.ts";

export interface ConfigProblem {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  readonly warnings: string[];
  constructor(problems: ConfigProblem[], warnings: string[] = []) {
    const lines = [
      "invalid configuration:",
      ...problems.map((p) => `  ${p.path}: ${p.message}`),
      ...warnings.map((w) => `warning: ${w}`),
    ];
    super(lines.join("\n"));
    this.problems = problems;
    this.warnings = warnings;
  }
}

export interface LoadedConfig {
  config: Config;
  warnings: string[];
}

type Tree = Record<string, unknown>;
/** Values of secret keys that are clearly not chosen by the operator. */
export const PLACEHOLDER_SECRET = /^(change[_-]?me|xxx+|todo|secret)$/i;

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOKET_CONFIG ?? "config/config.yaml";
}

/** Read and validate a config file. Throws ConfigError naming every bad key path. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env, opts: ParseOptions = {}): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError([{ path: file, message: `cannot read config file: ${(err as Error).message}` }]);
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text) ?? {};
  } catch (err) {
    throw new ConfigError([{ path: file, message: `not valid YAML: ${(err as Error).message}` }]);
  }
  return parseConfig(raw, env, opts);
}

export interface ParseOptions {
  /** Report unknown keys as warnings instead of problems (`loket start --allow-unknown-keys`). */
  allowUnknownKeys?: boolean;
}

/** Validate an already-parsed config tree (plus environment overrides). */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}, opts: ParseOptions = {}): LoadedConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError([{ path: "(root)", message: "the config must be a YAML mapping" }]);
  }
  const tree = structuredClone(raw) as Tree;
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const sources = applyEnv(tree, env, problems, warnings);
  // Keys whose secret file could not be read: that problem is enough, no "missing" after it.
  const unreadable = new Set<string>();
  resolveFileSecrets(tree, configSchema, [], problems, unreadable);
  const unknown: ConfigProblem[] = [];
  collectUnknown(tree, configSchema, [], unknown);
  if (opts.allowUnknownKeys) warnings.push(...unknown.map((u) => `${u.path}: ${u.message}`));
  else problems.push(...unknown);

  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.join(".") || "(root)";
      if (unreadable.has(path)) continue;
      const missing = issue.code === "invalid_type" && issue.message.endsWith("received undefined");
      const variable = envSourceOf(sources, path);
      const from = variable === undefined ? "" : ` (from environment variable ${variable})`;
      problems.push({ path, message: `${missing ? "missing (required)" : issue.message}${from}` });
    }
  }
  // The cross-key checks and the placeholder check also run on a config that failed the schema,
  // so that one run names every problem.
  problems.push(...crossChecks(tree));
  findPlaceholders(tree, configSchema, [], problems);
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems, warnings);
  return { config: deepFreeze(parsed.data), warnings };
}

/** `as_token_file: /run/secrets/x` becomes `as_token: <file contents>`. */
function resolveFileSecrets(node: unknown, schema: z.ZodType, path: string[], problems: ConfigProblem[], unreadable: Set<string>): void {
  if (typeof node !== "object" || node === null) return;
  for (const [key, value] of Object.entries(node as Tree)) {
    const base = key.replace(/_file$/, "");
    if (key !== base && !childOf(schema, key) && childOf(schema, base) && typeof value === "string") {
      if (base in (node as Tree)) {
        problems.push({ path: [...path, key].join("."), message: `give either ${base} or ${key}, not both` });
        Reflect.deleteProperty(node, key);
        continue;
      }
      try {
        (node as Tree)[base] = readFileSync(value, "utf8").trim();
      } catch (err) {
        problems.push({ path: [...path, key].join("."), message: `cannot read secret file: ${(err as Error).message}` });
        unreadable.add([...path, base].join("."));
      }
      Reflect.deleteProperty(node, key);
      continue;
    }
    const child = childOf(schema, key);
    if (child) resolveFileSecrets(value, child, [...path, key], problems, unreadable);
  }
}

function collectUnknown(node: unknown, schema: z.ZodType, path: string[], unknown: ConfigProblem[]): void {
  if (typeof node !== "object" || node === null) return;
  const isArray = Array.isArray(node);
  for (const [key, value] of Object.entries(node as Tree)) {
    const child = childOf(schema, key);
    if (!child) {
      if (isArray) continue;
      const inner = unwrap(schema);
      const known = inner instanceof z.ZodObject ? Object.keys(inner.shape) : [];
      const guess = nearest(key, known);
      const hint = guess === undefined ? "" : `; did you mean '${guess}'?`;
      unknown.push({ path: [...path, key].join("."), message: `unknown configuration key${hint}` });
      continue;
    }
    collectUnknown(value, child, [...path, key], unknown);
  }
}

function findPlaceholders(node: unknown, schema: z.ZodType, path: string[], problems: ConfigProblem[]): void {
  if (typeof node === "string") {
    if (metaOf(schema).secret && PLACEHOLDER_SECRET.test(node.trim())) {
      problems.push({ path: path.join("."), message: "placeholder secret left unchanged; set a real value" });
    }
    return;
  }
  if (typeof node !== "object" || node === null) return;
  for (const [key, value] of Object.entries(node as Tree)) {
    const child = childOf(unwrap(schema), key);
    if (child) findPlaceholders(value, child, [...path, key], problems);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
