// The effective configuration for the start-up log: every key that differs from its default,
// with secrets redacted, also credentials inside URLs (userinfo and query parameters).
import { isDeepStrictEqual } from "node:util";
import type { z } from "zod";
import { childOf, defaultOf, metaOf, unwrap } from "./introspect.ts";
import { redactCredentials } from "./redact.ts";
import { configSchema, type Config } from "./schema.ts";

/** Strings that may be connection URLs lose their credentials (userinfo and query). */
function withoutCredentials(value: unknown): unknown {
  return typeof value === "string" ? redactCredentials(value) : value;
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
    if (!isDeepStrictEqual(value, defaultOf(schema))) out[path.join(".")] = withoutCredentials(value);
  };
  walk(config, configSchema, []);
  return out;
}
