// Environment overrides: LOKET_<SECTION>__<KEY> (and LOKET_<…>_FILE for secrets) applied to the
// raw config tree, converted to the type the schema expects. Each key set from the environment is
// remembered, so that a problem with its value names the variable it came from.
import YAML from "yaml";
import type { z } from "zod";
import { childOf, leafKind, type LeafKind } from "./introspect.ts";
import type { ConfigProblem } from "./load.ts";
import { configSchema } from "./schema.ts";

type Tree = Record<string, unknown>;
const ENV_PREFIX = "LOKET_";
/** Variables of the CLI and the test harness that are not configuration keys. */
const NOT_CONFIG = new Set(["LOKET_CONFIG", "LOKET_KEEP_TEST_DATA", "LOKET_SYNAPSE_VENV"]);

/** Key path (dotted) -> the variable that set it. */
export type EnvSources = Map<string, string>;

export function applyEnv(tree: Tree, env: NodeJS.ProcessEnv, problems: ConfigProblem[], warnings: string[]): EnvSources {
  const sources: EnvSources = new Map();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || NOT_CONFIG.has(name) || value === undefined) continue;
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
      warnings.push(`environment variable ${name}: no such configuration key, ignored`);
      continue;
    }
    const path = segments.join(".");
    if (isFile && env[name.slice(0, -5)] !== undefined) {
      problems.push({ path, message: `set either ${name.slice(0, -5)} or ${name}, not both` });
      continue;
    }
    const converted = isFile ? value : convertEnv(value, leafKind(schema));
    if (converted instanceof Error) {
      problems.push({ path, message: `${converted.message} (from environment variable ${name})` });
      continue;
    }
    setPath(tree, segments, converted);
    sources.set(isFile ? path.slice(0, -5) : path, name);
    // The environment wins over the file: a variable for `x` (or `x_file`) replaces both `x`
    // and `x_file` from the YAML.
    const key = segments[last] ?? "";
    const other = isFile ? key.slice(0, -5) : `${key}_file`;
    setPath(tree, [...segments.slice(0, -1), other], undefined);
  }
  return sources;
}

/** The variable that set `path` or one of its parents, if any. */
export function envSourceOf(sources: EnvSources, path: string): string | undefined {
  for (let p = path; p !== ""; p = p.includes(".") ? p.slice(0, p.lastIndexOf(".")) : "") {
    const name = sources.get(p);
    if (name !== undefined) return name;
  }
  return undefined;
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
