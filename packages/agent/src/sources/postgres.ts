/**
 * PostgreSQL through pg_dump in plain format. Not -Fc: pg_dump's custom format is compressed, and a
 * compressed dump defeats any delta (restic#5446, borg#2813); the repository compresses afterwards.
 * Plain format writes table data as COPY blocks with one row per line, and pg_dump reads inside one
 * serializable snapshot, so the dump is consistent while the application writes.
 */
import type { BackupSourceConfig } from '@sentinela/shared';
import { postgresArgs } from './connection.js';
import { postgresRowCounter } from './lines.js';
import { streamTool, toolVersion } from './process.js';
import { postgresTableSums } from './table-sums.js';
import type { Dump, Source } from './source.js';

type Config = Extract<BackupSourceConfig, { kind: 'postgres' }>;

/** pg_dump's flags, also used by a drill to dump the restored copy again and compare its table sums. */
export const PG_DUMP_FLAGS = ['--format=plain', '--encoding=UTF8'];

/** "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)" → "15.20". */
export function parsePgVersion(line: string): string {
  return /\(PostgreSQL\) (\S+)/.exec(line)?.[1] ?? line;
}

export class PostgresSource implements Source {
  readonly kind = 'postgres' as const;
  readonly tokenizer = 'lines' as const;
  readonly name: string;
  constructor(private readonly config: Config) {
    this.name = config.name;
  }

  dump(): Dump {
    const conn = postgresArgs(this.config);
    const counter = postgresRowCounter();
    const sums = postgresTableSums();
    const run = streamTool({
      source: this.name,
      command: 'pg_dump',
      args: [...conn.args, ...PG_DUMP_FLAGS, '--dbname', this.config.database],
      env: conn.env,
      through: [counter.stage, sums.stage],
    });
    const version = toolVersion('pg_dump').then(parsePgVersion, () => 'unknown');
    const info = Promise.all([run.done, version]).then(([, v]) => ({ tool: { name: 'pg_dump', version: v }, tables: counter.tables, tableSums: sums.sums() }));
    info.catch(() => undefined);
    return { stream: run.stream, info };
  }
}
