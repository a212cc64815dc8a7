// Loads the configuration: YAML file, then LOKET_A__B environment overrides, then `*_file`
// secrets, then the schema and the cross-key checks. The result is typed and frozen.
import { readFileSync } from "node:fs";
import YAML from "yaml";
import type { z } from "zod";
import { crossChecks } from "./checks.ts";
import { childOf, leafKind, metaOf, unwrap, type LeafKind } from "./introspect.ts";
import { configSchema, type Config } from "./schema.ts";

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
const ENV_PREFIX = "LOKET_";
/** Values of secret keys that are clearly not chosen by the operator. */
export const PLACEHOLDER_SECRET = /^(change[_-]?me|xxx+|todo|secret)$/i;

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOKET_CONFIG ?? "config/config.yaml";
}

/** Read and validate a config file. Throws ConfigError naming every bad key path. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
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
  return parseConfig(raw, env);
}

/** Validate an already-parsed config tree (plus environment overrides). */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}): LoadedConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError([{ path: "(root)", message: "the config must be a YAML mapping" }]);
  }
  const tree = structuredClone(raw) as Tree;
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  applyEnv(tree, env, problems, warnings);
  resolveFileSecrets(tree, configSchema, [], problems);
  collectUnknown(tree, configSchema, [], warnings);

  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const missing = issue.code === "invalid_type" && issue.message.endsWith("received undefined");
      problems.push({ path: issue.path.join(".") || "(root)", message: missing ? "missing (required)" : issue.message });
    }
  }
  // The cross-key checks and the placeholder check also run on a config that failed the schema,
  // so that one run names every problem.
  problems.push(...crossChecks(tree));
  findPlaceholders(tree, configSchema, [], problems);
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems, warnings);
  return { config: deepFreeze(parsed.data), warnings };
}

function applyEnv(tree: Tree, env: NodeJS.ProcessEnv, problems: ConfigProblem[], warnings: string[]): void {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || name === "LOKET_CONFIG" || value === undefined) continue;
    const segments = name.slice(ENV_PREFIX.length).toLowerCase().split("__");
    const last = segments.length - 1;
    let schema: z.ZodType | undefined = configSchema;
    let isFile = false;
    for (const [i, seg] of segments.entries()) {
      if (!schema) break;
      const child = childOf(schema, seg);
      isFile = i === last && !child && seg.endsWith("_file") && childOf(schema, seg.slice(0, -5)) !== undefined;
      if (!isFile) schema = child;
    }
    if (!schema) {
      warnings.push(`${name}: no such configuration key, ignored`);
      continue;
    }
    if (isFile && env[name.slice(0, -5)] !== undefined) {
      problems.push({ path: segments.join("."), message: `set either ${name.slice(0, -5)} or ${name}, not both` });
      continue;
    }
    const converted = isFile ? value : convertEnv(value, leafKind(schema));
    if (converted instanceof Error) {
      problems.push({ path: segments.join("."), message: `${name}: ${converted.message}` });
      continue;
    }
    setPath(tree, segments, converted);
    // The environment wins over the file: a variable for `x` (or `x_file`) replaces both `x`
    // and `x_file` from the YAML.
    const key = segments[last] ?? "";
    const other = isFile ? key.slice(0, -5) : `${key}_file`;
    setPath(tree, [...segments.slice(0, -1), other], undefined);
  }
}

function convertEnv(value: string, kind: LeafKind): unknown {
  if (kind === "number") return /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  if (kind === "boolean") return value === "true" ? true : value === "false" ? false : value;
  if (kind === "string") return value;
  try {
    return YAML.parse(value) as unknown;
  } catch {
    return new Error("not valid YAML");
  }
}

function setPath(tree: Tree, segments: string[], value: unknown): void {
  let node: Tree = tree;
  segments.forEach((seg, i) => {
    if (i === segments.length - 1) {
      if (value === undefined) Reflect.deleteProperty(node, seg);
      else node[seg] = value;
      return;
    }
    const next = node[seg];
    if (typeof next !== "object" || next === null) {
      const fresh: Tree = /^\d+$/.test(segments[i + 1] ?? "") ? ([] as unknown as Tree) : {};
      node[seg] = fresh;
      node = fresh;
    } else {
      node = next as Tree;
    }
  });
}

/** `as_token_file: /run/secrets/x` becomes `as_token: <file contents>`. */
function resolveFileSecrets(node: unknown, schema: z.ZodType, path: string[], problems: ConfigProblem[]): void {
  if (typeof node !== "object" || node === null) return;
  for (const [key, value] of Object.entries(node as Tree)) {
    const base = key.replace(/_file$/, "");
    if (key !== base && !childOf(schema, key) && childOf(schema, base) && typeof value === "string") {
      if (base in (node as Tree)) {
        problems.push({ path: [...path, key].join("."), message: `give either ${base} or ${key}, not both` });
        continue;
      }
      try {
        (node as Tree)[base] = readFileSync(value, "utf8").trim();
      } catch (err) {
        problems.push({ path: [...path, key].join("."), message: `cannot read secret file: ${(err as Error).message}` });
      }
      Reflect.deleteProperty(node, key);
      continue;
    }
    const child = childOf(schema, key);
    if (child) resolveFileSecrets(value, child, [...path, key], problems);
  }
}

function collectUnknown(node: unknown, schema: z.ZodType, path: string[], warnings: string[]): void {
  if (typeof node !== "object" || node === null) return;
  const isArray = Array.isArray(node);
  for (const [key, value] of Object.entries(node as Tree)) {
    const child = childOf(schema, key);
    if (!child) {
      if (!isArray) warnings.push(`${[...path, key].join(".")}: unknown configuration key, ignored`);
      continue;
    }
    collectUnknown(value, child, [...path, key], warnings);
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
