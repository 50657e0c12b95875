/** Backup sources (what gets dumped) and restore targets (where a dump goes back). */
export { createSource, SOURCE_KINDS, type SourceOptions } from './kinds.js';
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
