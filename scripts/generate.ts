// Regenerates the files derived from code: config/config.sample.yaml, the sample
// registration.yaml and docs/metrics.md.
// Unit tests fail when the committed copies drift.
import { writeFileSync } from "node:fs";
import { renderSampleConfig } from "../src/config/sample.ts";
import { renderSampleRegistration } from "../src/config/sample-registration.ts";
import { renderMetricsDoc } from "../src/http/metrics-doc.ts";

const root = new URL("../", import.meta.url);
writeFileSync(new URL("config/config.sample.yaml", root), renderSampleConfig());
writeFileSync(new URL("registration.yaml", root), renderSampleRegistration());
writeFileSync(new URL("docs/metrics.md", root), await renderMetricsDoc());
console.log("wrote config/config.sample.yaml, registration.yaml and docs/metrics.md");
