/** Opens one of the agent's own SQLite files (outbox, backup state, power, network) the one way they all need. */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * WAL + synchronous=FULL: a committed row survives a power cut, the daily case on these sites.
 * busy_timeout: a CLI verb and the service may hold the same file for a moment.
 */
export function openDurableSqlite(path: string, opts: { fileMustExist?: boolean } = {}): Database.Database {
  if (!opts.fileMustExist) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { fileMustExist: opts.fileMustExist ?? false });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
