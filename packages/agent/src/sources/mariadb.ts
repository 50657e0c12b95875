/**
 * MariaDB/MySQL through mariadb-dump (or mysqldump). The flags are what make the dump both
 * consistent and delta-friendly:
 * - --single-transaction: one consistent InnoDB snapshot, without locking the application out;
 * - --skip-extended-insert: one row per line, so a changed row changes one line (restic#2286);
 * - --order-by-primary, --skip-dump-date: the same data gives the same bytes;
 * - --hex-blob: binary columns as hex, so no raw bytes break the line structure.
 */
import type { BackupSourceConfig } from '@sentinela/shared';
import { mariadbArgs } from './connection.js';
import { mariadbRowCounter } from './lines.js';
import { mariadbTableSums } from './table-sums.js';
import { findTool, streamTool, toolVersion } from './process.js';
import { holdSnapshotForCounts } from './mariadb-facts.js';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Dump, Source } from './source.js';

type Config = Extract<BackupSourceConfig, { kind: 'mariadb' }>;

export const MARIADB_DUMP_FLAGS = [
  '--single-transaction',
  '--order-by-primary',
  '--skip-dump-date',
  '--skip-extended-insert',
  '--routines',
  '--triggers',
  '--events',
  '--hex-blob',
  '--default-character-set=utf8mb4',
];

/** "mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for …" → "10.11.19-MariaDB". */
export function parseMariadbVersion(line: string): string {
  return /Distrib ([^\s,]+)/.exec(line)?.[1] ?? /Ver (\S+)/.exec(line)?.[1] ?? line;
}

export class MariadbSource implements Source {
  readonly kind = 'mariadb' as const;
  readonly tokenizer = 'lines' as const;
  readonly name: string;
  constructor(private readonly config: Config) {
    this.name = config.name;
  }

  dump(): Dump {
    // A missing tool makes streamTool fail with "mariadb-dump is not installed".
    const tool = findTool(['mariadb-dump', 'mysqldump']) ?? 'mariadb-dump';
    const out = new PassThrough();
    const info = (async () => {
      // The server's own row counts at the dump's point in time (mariadb-facts.ts); the dump starts once the lock is held.
      const facts = await holdSnapshotForCounts(this.config);
      const conn = mariadbArgs(this.config);
      const counter = mariadbRowCounter();
      const sums = mariadbTableSums();
      // The database name last, without --databases: the dump holds no CREATE DATABASE/USE, so it restores into any name.
      const run = streamTool({
        source: this.name,
        command: tool,
        args: [...conn.args, ...MARIADB_DUMP_FLAGS, '--', this.config.database],
        env: conn.env,
        through: ['stage' in facts ? [facts.stage] : [], counter.stage, sums.stage].flat(),
        cleanup: conn.cleanup,
      });
      pipeline(run.stream, out).catch(() => undefined);
      const [, v, counted] = await Promise.all([run.done, toolVersion(tool).then(parseMariadbVersion, () => 'unknown'), 'counts' in facts ? facts.counts : facts]);
      return { tool: { name: tool, version: v }, tables: counter.tables, tableSums: sums.sums(), ...('tables' in counted ? { sourceTables: counted.tables } : { sourceTablesError: counted.error }) };
    })();
    info.catch((err: Error) => out.destroy(err));
    return { stream: out, info };
  }
}
