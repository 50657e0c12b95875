/**
 * How a snapshot of each source kind restores, to each target it can take: the one choice `restore`
 * (and anything else that restores a snapshot) makes. A database dump goes into a new database or,
 * raw, to a file; SQLite to a checked database file; a files snapshot into a folder or, as its tar,
 * to a file; a command's output to a file.
 */
import type { Readable } from 'node:stream';
import type { AgentConfig, BackupSourceConfig, SnapshotManifest } from '@sentinela/shared';
import type { SourceKind } from '../source.js';
import type { DbConnection } from '../connection.js';
import { restoreMariadb } from './mariadb.js';
import { restorePostgres } from './postgres.js';
import { restoreSqlite } from './sqlite.js';
import { restoreFiles } from './files.js';
import { restoreToFile } from './file.js';
import type { RestoreOptions, RestoreReport } from './report.js';

export type RestoreTarget = { to: 'file'; path: string } | { to: 'dir'; path: string } | { to: 'database'; conn: DbConnection };
type To = RestoreTarget['to'];

type Restorer = (content: Readable, target: RestoreTarget, opts: RestoreOptions, manifest: SnapshotManifest) => Promise<RestoreReport>;

const path = (t: RestoreTarget) => (t.to === 'database' ? t.conn.database : t.path);
const conn = (t: RestoreTarget) => (t.to === 'database' ? t.conn : { database: t.path });
const rawFile: Restorer = (c, t, o) => restoreToFile(c, path(t), o);

const RESTORERS: Record<SourceKind, Partial<Record<To, Restorer>>> = {
  mariadb: { database: (c, t, o) => restoreMariadb(c, conn(t), o), file: rawFile },
  postgres: { database: (c, t, o) => restorePostgres(c, conn(t), o), file: rawFile },
  sqlite: { file: (c, t, o) => restoreSqlite(c, path(t), o) },
  files: { dir: (c, t, o, m) => restoreFiles(c, path(t), { ...o, expectedFiles: m.files }), file: rawFile },
  command: { file: rawFile },
};

/** The targets a snapshot of this kind can be restored to. */
export function restoreTargets(kind: string): To[] {
  return Object.keys(RESTORERS[kind as SourceKind] ?? {}) as To[];
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
  const restorer = RESTORERS[manifest.kind as SourceKind]?.[target.to];
  if (!restorer) throw new WrongTarget(manifest.kind, target.to, restoreTargets(manifest.kind));
  return restorer(content, target, { ...opts, expectedTables: opts.expectedTables ?? manifest.tables }, manifest);
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
