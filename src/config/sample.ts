// Generates config/config.sample.yaml from the schema: every key with its description and its
// default (or an example for keys without one). A unit test fails when the committed file drifts.
import YAML from "yaml";
import { z } from "zod";
import { defaultOf, metaOf, unwrap } from "./introspect.ts";
import { configSchema } from "./schema.ts";

const HEADER = `Loket configuration (generated from src/config/schema.ts by \`npm run generate\`; do not edit).
Every key can be overridden by an environment variable LOKET_<SECTION>__<KEY> (upper case,
'__' between levels), and every secret can be read from a file with a key ending in _file
(for example appservice.as_token_file, or LOKET_APPSERVICE__AS_TOKEN_FILE).`;

const EXAMPLE_MUNICIPALITY = {
  id: "voorbeeld",
  name: "Gemeente Voorbeeld",
  bot_localpart: "gemeente_voorbeeld",
  departments: [{ id: "burgerzaken", name: "Burgerzaken", staff: ["@medewerker:example.nl"] }],
};

/** A value that shows the key: its example, else its default, else one built from its children. */
function sampleValue(schema: z.ZodType): unknown {
  const meta = metaOf(schema);
  if (meta.example !== undefined) return meta.example;
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    const out: Record<string, unknown> = {};
    const shape: Record<string, z.ZodType> = inner.shape;
    for (const [key, child] of Object.entries(shape)) {
      out[key] = sampleValue(child);
    }
    return out;
  }
  return defaultOf(schema) ?? "";
}

function annotate(node: unknown, schema: z.ZodType): void {
  const inner = unwrap(schema);
  if (YAML.isMap(node) && inner instanceof z.ZodObject) {
    const shape = inner.shape as Record<string, z.ZodType>;
    for (const pair of node.items) {
      const key = YAML.isScalar(pair.key) ? String(pair.key.value) : "";
      const child = shape[key];
      if (!child || !YAML.isNode(pair.key)) continue;
      const meta = metaOf(child);
      const notes = [meta.description ?? ""];
      if (meta.secret) notes.push("Required secret; the placeholder is refused.");
      else if (defaultOf(child) === undefined && !(child instanceof z.ZodOptional)) notes.push("Required.");
      pair.key.commentBefore = notes.filter(Boolean).map((n) => ` ${n}`).join("\n");
      annotate(pair.value, child);
    }
  } else if (YAML.isSeq(node) && inner instanceof z.ZodArray) {
    for (const item of node.items) annotate(item, inner.element as z.ZodType);
  }
}

export function renderSampleConfig(): string {
  const value = sampleValue(configSchema) as Record<string, unknown>;
  const element = (unwrap(configSchema.shape.municipalities) as z.ZodArray<z.ZodType>).element;
  value.municipalities = [{ ...(sampleValue(element) as object), ...EXAMPLE_MUNICIPALITY }];
  const doc = new YAML.Document(value);
  doc.commentBefore = HEADER.split("\n").map((l) => ` ${l}`).join("\n");
  annotate(doc.contents, configSchema);
  if (YAML.isMap(doc.contents)) {
    for (const pair of doc.contents.items) if (YAML.isNode(pair.key)) pair.key.spaceBefore = true;
  }
  return doc.toString({ lineWidth: 100 });
}
