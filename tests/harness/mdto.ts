// Validates MDTO XML against the real MDTO 1.0.1 XSD (xmllint compiled to WebAssembly). The XSD
// comes from $MDTO_XSD or ../shared/data/mdto/ beside the project; without it the test fails
// and says where it looked (never skipped silently).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { validateXML } from "xmllint-wasm";
import { REPO_ROOT } from "./paths.ts";

export function mdtoXsd(): string {
  const path = process.env.MDTO_XSD ?? join(REPO_ROOT, "../shared/data/mdto/MDTO-XML1.0.1.xsd");
  if (!existsSync(path)) {
    throw new Error(`MDTO XSD NOT FOUND at ${path}: set MDTO_XSD to the MDTO-XML1.0.1.xsd (NationaalArchief/MDTO-XSD, schema/v1.0.1); export validation cannot be tested without it`);
  }
  return readFileSync(path, "utf8");
}

/** The validator's errors for each file (empty: valid). */
export async function validateMdto(files: { name: string; xml: string }[]): Promise<string[]> {
  const res = await validateXML({
    xml: files.map((f) => ({ fileName: f.name.replace(/^[-]+/, ""), contents: f.xml })),
    schema: [{ fileName: "MDTO-XML1.0.1.xsd", contents: mdtoXsd() }],
  });
  return res.errors.map((e) => e.rawMessage);
}
