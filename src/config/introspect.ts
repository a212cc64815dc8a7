// Small helpers to walk the zod config schema: used for the sample file, env overrides and
// unknown-key warnings, so that the schema stays the single source of truth.
import { z } from "zod";

export interface KeyMeta {
  description?: string;
  secret?: boolean;
  example?: unknown;
}

/** Strip default/prefault/optional wrappers. */
export function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional) {
    s = s.unwrap() as z.ZodType;
  }
  return s;
}

export function metaOf(schema: z.ZodType): KeyMeta {
  let s: z.ZodType = schema;
  const merged: KeyMeta = {};
  for (;;) {
    const m = (s.meta() ?? {}) as KeyMeta;
    merged.description ??= m.description ?? s.description;
    merged.secret ??= m.secret;
    merged.example ??= m.example;
    const inner = unwrap(s);
    if (inner === s) return merged;
    s = inner;
  }
}

/** The default value of a key, or undefined when the key has none (a required key). */
export function defaultOf(schema: z.ZodType): unknown {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault) {
    const parsed = schema.safeParse(undefined);
    return parsed.success ? parsed.data : undefined;
  }
  return undefined;
}

/** The schema of a child: an object key, or (for a numeric segment) an array element. */
export function childOf(schema: z.ZodType, segment: string): z.ZodType | undefined {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) return (s.shape as Record<string, z.ZodType>)[segment];
  if (s instanceof z.ZodArray && /^\d+$/.test(segment)) return s.element as z.ZodType;
  // A union (for example a Matrix id or {user, departments}): the first option that has the key.
  if (s instanceof z.ZodUnion) {
    for (const option of s.options as z.ZodType[]) {
      const child = childOf(option, segment);
      if (child) return child;
    }
  }
  return undefined;
}

export type LeafKind = "string" | "number" | "boolean" | "other";

export function leafKind(schema: z.ZodType): LeafKind {
  const s = unwrap(schema);
  if (s instanceof z.ZodNumber) return "number";
  if (s instanceof z.ZodBoolean) return "boolean";
  if (s instanceof z.ZodString || s instanceof z.ZodEnum) return "string";
  return "other";
}
