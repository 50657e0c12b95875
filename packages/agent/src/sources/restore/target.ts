/**
 * How a snapshot of each source kind restores, to each target it can take: the one choice `restore`
 * (and anything else that restores a snapshot) makes. A database dump goes into a new database or,
 * raw, to a file; SQLite to a checked database file; a files snapshot into a folder or, as its tar,
 * to a file; a command's output to a file.
 */
import type { Readable } from 'node:stream';
import { RESTORE_TARGET, type AgentConfig, type BackupSourceConfig, type SnapshotManifest } from '@sentinela/shared';
import type { SourceKind } from '../source.js';
import type { DbConnection } from '../connection.js';
import { SOURCE_KINDS, type KindRestoreOptions } from '../kinds.js';
import { restoreToFile } from './file.js';
import type { RestoreOptions, RestoreReport } from './report.js';

export type RestoreTarget = { to: 'file'; path: string } | { to: 'dir'; path: string } | { to: 'database'; conn: DbConnection };
type To = RestoreTarget['to'];

/** The targets a snapshot of this kind can be restored to: its own place (the kinds' registry), and any dump as it is to a file. */
export function restoreTargets(kind: string): To[] {
  const own = (RESTORE_TARGET as Record<string, To | undefined>)[kind];
  if (!own) return [];
  return own === 'file' ? ['file'] : [own, 'file'];
}

/** A target this kind cannot take (a files snapshot into a database, say); nothing was touched. */
export class WrongTarget extends Error {
  override name = 'WrongTarget';
  constructor(
    readonly kind: string,
    readonly to: To,
    readonly possible: To[],
  ) {
    super(`a ${kind} snapshot cannot be restored to a ${to}; it can go to: ${possible.join(', ') || 'nothing'}`);
  }
}

/** Restores `content` (the snapshot's dump, as repo.read gives it) into the target its kind takes. */
export function restoreSnapshot(content: Readable, manifest: SnapshotManifest, target: RestoreTarget, opts: RestoreOptions): Promise<RestoreReport> {
  const kind = manifest.kind as SourceKind;
  const possible = restoreTargets(kind);
  if (!possible.includes(target.to)) throw new WrongTarget(manifest.kind, target.to, possible);
  const o: KindRestoreOptions = { ...opts, expectedTables: opts.expectedTables ?? manifest.tables, ...(manifest.files ? { expectedFiles: manifest.files } : {}) };
  if (target.to !== RESTORE_TARGET[kind]) return restoreToFile(content, target.to === 'database' ? target.conn.database : target.path, o);
  const restore = SOURCE_KINDS[kind].restore as (content: Readable, at: DbConnection | string, opts: KindRestoreOptions) => Promise<RestoreReport>;
  return restore(content, target.to === 'database' ? target.conn : target.path, o);
}

/**
 * The server a database restore goes to: the configured source of the same name and kind (or the
 * host and port given), but never the source's user and password: the backup user may only read.
 * The admin is `user` and `passwordFile`, or, without them, the client's default (on Debian, root
 * over the local socket).
 */
export function restoreServer(
  config: AgentConfig | null,
  manifest: Pick<SnapshotManifest, 'source' | 'kind'>,
  database: string,
  given: { host?: string; port?: number; user?: string; passwordFile?: string },
): DbConnection {
  const sc = config?.backup?.sources.find((s: BackupSourceConfig) => s.name === manifest.source && s.kind === manifest.kind) as
    | (BackupSourceConfig & { host?: string; port?: number })
    | undefined;
  return { host: given.host ?? sc?.host, port: given.port ?? sc?.port, user: given.user, passwordFile: given.passwordFile, database };
}
