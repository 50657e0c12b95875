/** The agent's config for a verb: validated whole before anything else happens (a ConfigError exits 2). */
import { existsSync } from 'node:fs';
import { AGENT_CONFIG_PATH, AgentConfig, loadConfigFile } from '@sentinela/shared';

export function loadAgentConfig(file: string | undefined): AgentConfig {
  return loadConfigFile(file ?? AGENT_CONFIG_PATH, AgentConfig);
}

/**
 * For the verbs that also work on a bare machine (restore, snapshots, verify): the config when one
 * is named or the default one exists, else null (the disk's folder and the recovery code are enough).
 */
export function optionalAgentConfig(file: string | undefined, given: ReadonlySet<string>): AgentConfig | null {
  if (!given.has('config') && !existsSync(file ?? AGENT_CONFIG_PATH)) return null;
  return loadAgentConfig(file);
}
