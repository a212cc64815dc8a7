// The config of the archive: the `archive` section, departments[].archive_category and
// municipalities[].archive_checkpoint_room. Imported by src/config/schema.ts.
import { z } from "zod";

export const DEFAULT_CATEGORIES = [
  { id: "algemene-vragen", name: "Algemene vragen", retention_years: 1, valuation: "V" as const, selectielijst: "20.1" },
  { id: "adviesaanvragen", name: "Adviesaanvragen", retention_years: 5, valuation: "V" as const, selectielijst: "21.1" },
  { id: "klachten", name: "Klachten", retention_years: 5, valuation: "V" as const, selectielijst: "13.1" },
];

const category = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "use lower-case letters, digits and dashes")
    .describe("Category id (used in config, lists and !categorie)."),
  name: z.string().min(1).describe("Category name, for example a Selectielijst result ('Informeren: uitgevoerd')."),
  retention_years: z.number().min(0).describe("Years the conversation is kept after its closing date (valuation V)."),
  valuation: z.enum(["V", "B"]).describe("V: destroy after the term; B: keep permanently (transfer to an archive)."),
  selectielijst: z.string().default("").describe("The Selectielijst result code this category maps to (for MDTO informatiecategorie), for example '20.1'."),
});

const hook = z.object({
  url: z.url().describe("URL each archived record is POSTed to."),
  secret: z.string().min(1).meta({ secret: true, example: "CHANGE_ME" })
    .describe("HMAC-SHA256 key; the body's signature is sent as X-Loket-Signature: sha256=<hex>. secret_file works too."),
});

export const archiveSchema = z.object({
  enabled: z.boolean().default(true)
    .describe("Archive every event in the municipalities' rooms (Archiefwet). Turn off only for tests or demos."),
  blob_dir: z.string().default("data/archive-blobs")
    .describe("Directory of the content-addressed media store (files named by their SHA-256)."),
  checkpoint_interval_seconds: z.number().int().min(1).default(3600)
    .describe("How often each municipality's chain head is written as a checkpoint (and posted to its checkpoint room) when new records came in."),
  media_retry_max_seconds: z.number().int().min(1).default(3600)
    .describe("Longest wait between attempts to download a media file that failed (back-off doubles from 5 s); failures are never given up."),
  hook_retry_max_seconds: z.number().int().min(1).default(300)
    .describe("Longest wait between attempts to deliver a record to a hook that failed (back-off doubles from 1 s); records are never dropped."),
  categories: z.array(category).default(DEFAULT_CATEGORIES).superRefine((list, ctx) => {
    const seen = new Set<string>();
    for (const [i, c] of list.entries()) {
      if (seen.has(c.id)) ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate category id '${c.id}'` });
      seen.add(c.id);
    }
  }).describe("Archive categories: retention term and valuation; map your Selectielijst results onto them."),
  default_category: z.string().default("algemene-vragen")
    .describe("Category of conversations without one of their own and without a department default."),
  hooks: z.array(hook).default([]).superRefine((list, ctx) => {
    const seen = new Set<string>();
    for (const [i, h] of list.entries()) {
      if (seen.has(h.url)) ctx.addIssue({ code: "custom", path: [i, "url"], message: `duplicate hook url '${h.url}' (a hook is known by its URL)` });
      seen.add(h.url);
    }
  }).describe("Document or case systems every archived record is POSTed to (JSON, signed, at least once, in order per conversation)."),
}).superRefine((a, ctx) => {
  if (!a.categories.some((c) => c.id === a.default_category)) {
    ctx.addIssue({ code: "custom", path: ["default_category"], message: `unknown archive category '${a.default_category}'` });
  }
});

export type ArchiveConfig = z.infer<typeof archiveSchema>;
export type ArchiveCategory = ArchiveConfig["categories"][number];

export const departmentArchiveCategory = z.string().default("")
  .describe("Archive category of this department's conversations; empty: archive.default_category.");

export const checkpointRoom = z.string().default("")
  .describe("Room id of the staff room where the archive checkpoints are posted as nl.loket.archive.checkpoint state; empty: not posted (still stored).");
