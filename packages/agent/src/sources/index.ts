/** Backup sources (what gets dumped) and restore targets (where a dump goes back). */
import { tmpdir } from 'node:os';
import type { BackupSourceConfig } from '@sentinela/shared';
import { CommandSource } from './command.js';
import { FilesSource } from './files.js';
import { MariadbSource } from './mariadb.js';
import { PostgresSource } from './postgres.js';
import type { Source } from './source.js';
import { SqliteSource } from './sqlite.js';

export interface SourceOptions {
  /** Where temporary copies go (SQLite's online-backup copy). Default: the OS temp folder. */
  tmpDir?: string;
}

export function createSource(config: BackupSourceConfig, opts: SourceOptions = {}): Source {
  switch (config.kind) {
    case 'mariadb':
      return new MariadbSource(config);
    case 'postgres':
      return new PostgresSource(config);
    case 'sqlite':
      return new SqliteSource(config, opts.tmpDir ?? tmpdir());
    case 'files':
      return new FilesSource(config);
    case 'command':
      return new CommandSource(config);
  }
}

export { DumpError, type Dump, type DumpInfo, type Source, type SourceKind, type Tokenizer } from './source.js';
export { MariadbSource, MARIADB_DUMP_FLAGS } from './mariadb.js';
export { PostgresSource } from './postgres.js';
export { SqliteSource, sqliteRowCounts, sqliteOnlineCopy } from './sqlite.js';
export { FilesSource, selectFiles } from './files.js';
export { CommandSource } from './command.js';
export { PathMatcher } from './glob.js';
export { extractTar, tarStream, TarError } from './tar.js';
export type { DbConnection } from './connection.js';
export { query, runClient, ClientError, type Dialect } from './sql-cli.js';
export * from './restore/index.js';
