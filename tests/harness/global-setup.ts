// Runs once before the integration tests: installs Synapse into the cached venv if needed, so
// that no test file pays for (or races on) the installation.
import { ensureSynapseVenv } from "../../src/devserver/venv.ts";
import { SYNAPSE_VENV } from "./paths.ts";

export default async function setup(): Promise<void> {
  await ensureSynapseVenv(SYNAPSE_VENV, (msg) => { console.log(`[harness] ${msg}`); });
}
