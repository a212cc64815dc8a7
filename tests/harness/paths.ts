// Where the harness keeps its cached Synapse virtual environment.
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SYNAPSE_VENV = process.env.LOKET_SYNAPSE_VENV ?? `${REPO_ROOT}.cache/synapse-venv`;
