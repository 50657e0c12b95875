/**
 * SQLite through the online backup API (better-sqlite3's db.backup): a consistent copy while the
 * application keeps writing. The copy goes to a temporary file, is counted, streamed, then deleted.
 * Its 4 KiB pages are the tokens of the delta: a changed row changes the pages it lives in.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, pipeline } from 'node:stream';
import type { BackupSourceConfig } from '@sentinela/shared';
import { DumpError, type Dump, type DumpInfo, type Source } from './source.js';

type Config = Extract<BackupSourceConfig, { kind: 'sqlite' }>;

/**
 * Opens a SQLite file with better-sqlite3, loaded here rather than when this module loads: every
 * restore loads the source kinds, and the native addon cost a restore of a MariaDB dump ~40 ms.
 */
export function openSqlite(...args: ConstructorParameters<typeof BetterSqlite3>): BetterSqlite3.Database {
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  return new Database(...args);
}

export function sqliteToolVersion(): string {
  const pkg = createRequire(import.meta.url)('better-sqlite3/package.json') as { version: string };
  const db = openSqlite(':memory:');
  try {
    const v = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    return `${pkg.version} (SQLite ${v})`;
  } finally {
    db.close();
  }
}

/** Row counts of every table of a SQLite file (read-only). */
export function sqliteRowCounts(file: string): Record<string, number> {
  const db = openSqlite(file, { readonly: true, fileMustExist: true });
  try {
    const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    const out: Record<string, number> = {};
    for (const name of names) out[name] = db.prepare(`SELECT COUNT(*) FROM "${name.replace(/"/g, '""')}"`).pluck().get() as number;
    return out;
  } finally {
    db.close();
  }
}

/** Copies `file` with the online backup API, in one step so that concurrent writers never force a restart. */
export async function sqliteOnlineCopy(file: string, dest: string): Promise<void> {
  const db = openSqlite(file, { readonly: true, fileMustExist: true, timeout: 30_000 });
  try {
    await db.backup(dest, { progress: () => 0x7fffffff });
  } finally {
    db.close();
  }
}

export class SqliteSource implements Source {
  readonly kind = 'sqlite' as const;
  readonly tokenizer = 'pages' as const;
  readonly name: string;
  constructor(
    private readonly config: Config,
    private readonly tmpDir: string = tmpdir(),
  ) {
    this.name = config.name;
  }

  dump(): Dump {
    const out = new PassThrough();
    const info = this.run(out);
    info.catch((err: Error) => out.destroy(err));
    return { stream: out, info };
  }

  private async run(out: PassThrough): Promise<DumpInfo> {
    const dir = mkdtempSync(join(this.tmpDir, 'sentinela-sqlite-'));
    const copy = join(dir, 'copy.db');
    try {
      try {
        await sqliteOnlineCopy(this.config.path, copy);
      } catch (err) {
        const text = (err as Error).message;
        throw new DumpError(this.name, text, `SQLite backup of ${this.config.path} failed: ${text}`);
      }
      const tables = sqliteRowCounts(copy);
      const version = sqliteToolVersion();
      await new Promise<void>((resolve, reject) =>
        pipeline(createReadStream(copy), out, (err) => (err ? reject(new DumpError(this.name, err.message, `reading the SQLite copy failed: ${err.message}`)) : resolve())),
      );
      return { tool: { name: 'better-sqlite3', version }, tables };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
