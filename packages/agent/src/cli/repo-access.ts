/**
 * Which repository a verb reads (`--from spool|usb|peer|FOLDER`, or the older `--repo FOLDER`) and
 * with which key (the site key file, the recovery code, or the escrowed key an export carries).
 * Shared by restore, snapshots, verify and drill so that they all take the same words.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AgentConfig } from '@sentinela/shared';
import { MasterKey } from '../repository/keys.js';
import { backupKeyPath, repositoryPath } from '../paths.js';
import { siteDisks } from '../locations/usb.js';
import { UsageError } from '@sentinela/shared/cli';

type ParsedValues = Readonly<Record<string, string | boolean | undefined>>;

/** The repository folder `from` names: spool, peer, usb (the first disk of the site mounted now), or a folder. */
export function repositoryDir(verb: string, from: string, config: AgentConfig | null): string {
  const need = (what: string): AgentConfig => {
    if (!config) throw new UsageError(`sentinela-agent ${verb}: --from ${what} needs --config; on a bare machine give the disk's folder: --from /media/DISK --recovery-code CODE`);
    return config;
  };
  if (from === 'spool') return repositoryPath(need('spool'));
  if (from === 'peer') {
    const path = need('peer').backup?.peer?.path;
    if (!path) throw new UsageError(`sentinela-agent ${verb}: --from peer but the config has no backup.peer.path`);
    return path;
  }
  if (from === 'usb') {
    const disks = siteDisks(need('usb'));
    if (disks.length === 0) throw new UsageError(`sentinela-agent ${verb}: --from usb but no backup disk of this site is mounted; plug it in, or give its folder: --from /media/DISK`);
    return disks[0]!.path;
  }
  if (from === 'hub') throw new UsageError(`sentinela-agent ${verb}: --from hub is for restore and drill (they download the copy first)`);
  return resolve(from);
}

/** `--from` or `--repo` (older spelling), default the spool. */
export function chosenDir(verb: string, values: ParsedValues, config: AgentConfig | null): string {
  if (typeof values.from === 'string' && typeof values.repo === 'string') throw new UsageError(`sentinela-agent ${verb}: give --from or --repo, not both`);
  return repositoryDir(verb, typeof values.from === 'string' ? values.from : typeof values.repo === 'string' ? values.repo : 'spool', config);
}

/** The key: --recovery-code, else an escrowed key file beside an export, else the site key file. */
export function loadKey(verb: string, values: ParsedValues, config: AgentConfig | null, escrowed?: string): MasterKey {
  if (typeof values['recovery-code'] === 'string') return MasterKey.fromRecoveryCode(values['recovery-code']);
  if (escrowed) return MasterKey.load(escrowed);
  if (!config) throw new UsageError(`sentinela-agent ${verb}: give --config (to use the site key file) or --recovery-code CODE`);
  return MasterKey.load(backupKeyPath(config));
}

/** An export from the hub made --with-key holds the escrowed key (its README.txt says so). */
export function escrowedKeyIn(dir: string, values: ParsedValues, config: AgentConfig | null): string | undefined {
  return typeof values['recovery-code'] !== 'string' && !config && existsSync(join(dir, 'backup.key')) ? join(dir, 'backup.key') : undefined;
}
