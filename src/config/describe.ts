// The effective configuration for the start-up log: every key that differs from its default,
// with secrets redacted.
import { isDeepStrictEqual } from "node:util";
import type { z } from "zod";
import { childOf, defaultOf, metaOf, unwrap } from "./introspect.ts";
import { configSchema, type Config } from "./schema.ts";

/** postgres://loket:pw@db/loket -> postgres://loket:[redacted]@db/loket */
function withoutPassword(value: unknown): unknown {
  if (typeof value !== "string" || !/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value)) return value;
  try {
    const url = new URL(value);
    if (url.password !== "") url.password = "[redacted]";
    return decodeURIComponent(url.toString());
  } catch {
    return "[redacted]";
  }
}

export function nonDefaultSettings(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (value: unknown, schema: z.ZodType, path: string[]): void => {
    if (metaOf(schema).secret) {
      out[path.join(".")] = "[redacted]";
      return;
    }
    const inner = unwrap(schema);
    const isObject = typeof value === "object" && value !== null && !Array.isArray(value) && inner.def.type === "object";
    if (isObject) {
      for (const [key, v] of Object.entries(value)) {
        const child = childOf(schema, key);
        if (child) walk(v, child, [...path, key]);
      }
      return;
    }
    if (!isDeepStrictEqual(value, defaultOf(schema))) out[path.join(".")] = withoutPassword(value);
  };
  walk(config, configSchema, []);
  return out;
}
