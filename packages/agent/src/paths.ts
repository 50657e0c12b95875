/** Where the agent keeps its files, all derived from the config. */
import { join } from 'node:path';
import type { AgentConfig } from '@sentinela/shared';

export function outboxPath(config: AgentConfig): string {
  return join(config.dataDir, 'outbox.db');
}

export function credentialsPath(config: AgentConfig): string {
  return config.hub.credentialsFile ?? join(config.dataDir, 'credentials.json');
}

/** The site's backup key: backup.keyFile, or <dataDir>/backup.key. */
export function backupKeyPath(config: AgentConfig): string {
  return config.backup?.keyFile ?? join(config.dataDir, 'backup.key');
}

/** The local repository (spool): backup.spool, or <dataDir>/repository. */
export function repositoryPath(config: AgentConfig): string {
  return config.backup?.spool ?? join(config.dataDir, 'repository');
}
