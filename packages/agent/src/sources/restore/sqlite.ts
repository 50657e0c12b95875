/**
 * A SQLite snapshot back into a database file: written beside the target, checked with
 * PRAGMA integrity_check and counted, then renamed into place. Never over an existing file without
 * force; with force, the old file's -wal and -shm go too (a stale WAL beside a new file would corrupt it).
 */
import { rmSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { openSqlite, sqliteRowCounts } from '../sqlite.js';
import { writeStreamAtomic } from './file.js';
import { compareTables, type RestoreOptions, type RestoreReport } from './report.js';

export async function restoreSqlite(content: Readable, path: string, opts: RestoreOptions = {}): Promise<RestoreReport> {
  let integrity: string[] = [];
  let found: Record<string, number> = {};
  const bytes = await writeStreamAtomic(content, path, opts, (tmp) => {
    const db = openSqlite(tmp, { fileMustExist: true });
    try {
      integrity = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
    } finally {
      db.close();
    }
    found = sqliteRowCounts(tmp);
    if (opts.force) for (const ext of ['-wal', '-shm', '-journal']) rmSync(path + ext, { force: true });
  });
  const cmp = compareTables(opts.expectedTables, found);
  if (integrity.join() !== 'ok') cmp.problems.unshift(`integrity_check: ${integrity.slice(0, 10).join('; ')}`);
  return { target: path, bytes, ...cmp, ok: cmp.problems.length === 0 };
}
