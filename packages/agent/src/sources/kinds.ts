/**
 * The agent's one registry of backup source kinds: how each is dumped and how its snapshot goes
 * back to its place (shared RESTORE_TARGET). A new kind is its config entry in shared
 * (config/agent-backup.ts), its Source and restore files here, and one entry below: the compiler
 * asks for it, and the manifest, the config check and createSource follow.
 */
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { RESTORE_TARGET, type BackupSourceConfig } from '@sentinela/shared';
import { CommandSource } from './command.js';
import type { DbConnection } from './connection.js';
import { FilesSource } from './files.js';
import { MariadbSource } from './mariadb.js';
import { PostgresSource } from './postgres.js';
import { restoreToFile } from './restore/file.js';
import { restoreFiles } from './restore/files.js';
import { restoreMariadb } from './restore/mariadb.js';
import { restorePostgres } from './restore/postgres.js';
import type { RestoreOptions, RestoreReport } from './restore/report.js';
import { restoreSqlite } from './restore/sqlite.js';
import type { DumpInfo, Source, SourceKind } from './source.js';
import { SqliteSource } from './sqlite.js';

export interface SourceOptions {
  /** Where temporary copies go (SQLite's online-backup copy). Default: the OS temp folder. */
  tmpDir?: string;
}

export type KindRestoreOptions = RestoreOptions & { expectedFiles?: DumpInfo['files'] };

interface KindDef<K extends SourceKind> {
  create(config: Extract<BackupSourceConfig, { kind: K }>, opts: SourceOptions): Source;
  /** Puts a snapshot back at its own place: a connection for a database, a path for a folder or a file. */
  restore(content: Readable, target: (typeof RESTORE_TARGET)[K] extends 'database' ? DbConnection : string, opts: KindRestoreOptions): Promise<RestoreReport>;
}

export const SOURCE_KINDS: { [K in SourceKind]: KindDef<K> } = {
  mariadb: { create: (c) => new MariadbSource(c), restore: restoreMariadb },
  postgres: { create: (c) => new PostgresSource(c), restore: restorePostgres },
  sqlite: { create: (c, o) => new SqliteSource(c, o.tmpDir ?? tmpdir()), restore: restoreSqlite },
  files: { create: (c) => new FilesSource(c), restore: restoreFiles },
  command: { create: (c) => new CommandSource(c), restore: restoreToFile },
};

export function createSource(config: BackupSourceConfig, opts: SourceOptions = {}): Source {
  return (SOURCE_KINDS[config.kind] as KindDef<SourceKind>).create(config as never, opts);
}
