/** What the backup verbs share: the site id, the key, the spool and the state, from the config. */
import type { AgentBackupConfig, AgentConfig } from '@sentinela/shared';
import { siteIdOrNull } from '../locations/disks.js';
import { UsageError } from '@sentinela/shared/cli';

export function backupConfig(config: AgentConfig, verb: string): AgentBackupConfig {
  if (!config.backup) throw new UsageError(`sentinela-agent ${verb}: the config has no backup: section (see examples/agent.yaml)`);
  return config.backup;
}

/** The enrolled site, or site.id before enrolment: backups work on a server not yet enrolled. */
export function siteIdOf(config: AgentConfig, verb: string): string {
  const site = siteIdOrNull(config);
  if (!site) throw new UsageError(`sentinela-agent ${verb}: the site id is unknown: set site.id in the config or enroll first`);
  return site;
}
