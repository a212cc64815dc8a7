// The top-level registration.yaml: a sample of what `loket registration` writes, generated from
// the sample config with placeholder tokens (never usable as is: Loket refuses the placeholders).
import YAML from "yaml";
import { buildRegistration } from "../matrix/registration.ts";
import { parseConfig } from "./load.ts";
import { renderSampleConfig } from "./sample.ts";

export const SAMPLE_AS_TOKEN = "REPLACE_WITH_GENERATED_AS_TOKEN";
export const SAMPLE_HS_TOKEN = "REPLACE_WITH_GENERATED_HS_TOKEN";

const HEADER = `# SAMPLE appservice registration, generated from config/config.sample.yaml by \`npm run generate\`
# (do not edit). Write your own with \`loket registration -c config.yaml -o FILE --generate-tokens\`:
# it fills in real tokens. Synapse loads the file through app_service_config_files.
`;

export function renderSampleRegistration(): string {
  // The registration does not depend on the crypto section, whose sample secrets are placeholders.
  const sample = YAML.parse(renderSampleConfig()) as Record<string, unknown>;
  delete sample.crypto;
  const { config } = parseConfig(sample, {
    LOKET_APPSERVICE__AS_TOKEN: SAMPLE_AS_TOKEN,
    LOKET_APPSERVICE__HS_TOKEN: SAMPLE_HS_TOKEN,
  });
  return HEADER + YAML.stringify(buildRegistration(config));
}
