import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

/** The repository root, from tools/dist/harness/. */
export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
export const HUB_BIN = resolve(REPO_ROOT, 'packages/hub/dist/cli/main.js');
export const AGENT_BIN = resolve(REPO_ROOT, 'packages/agent/dist/cli/main.js');
/** The installed command's launcher (what a technician runs): one-shot verbs start from the bundle. */
export const AGENT_LAUNCHER = resolve(REPO_ROOT, 'packages/agent/bin/sentinela-agent.js');
