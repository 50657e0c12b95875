/**
 * Opens a hub database: one SQLite file in WAL mode, migrated with the steps given. The hub's
 * whole list (the store's steps and each module's) is src/database.ts, which callers use.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
export type Db = Database.Database;

/** One schema step (store/migrations.ts has the list and how modules add theirs). */
export type Migration = (db: Database.Database) => void;

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * A prepared statement for `sql`, compiled once per connection. For queries that run per site on
 * the ingest path (the alert rules after each commit): compiling is most of a small query's cost.
 * Every caller with the same text shares the one statement, and a mode set on it (pluck, raw)
 * stays: a query run in two modes needs two texts.
 */
export function cachedStatement(db: Db, sql: string): Database.Statement {
  let byText = statements.get(db);
  if (!byText) statements.set(db, (byText = new Map()));
  let st = byText.get(sql);
  if (!st) byText.set(sql, (st = db.prepare(sql)));
  return st;
}

export interface OpenDbOptions {
  synchronous?: 'full' | 'normal';
  /** How long a writer waits for another (the CLI beside `serve`) before SQLITE_BUSY. */
  busyTimeoutMs?: number;
}

export function dbPath(dataDir: string): string {
  return join(dataDir, 'hub.db');
}

export function openStore(dataDir: string, migrations: readonly Migration[], opts: OpenDbOptions = {}): Db {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new Database(dbPath(dataDir));
  try {
    // Only a new database takes it (before its first write): a commit writes a page per site of the
    // dedup key, and with 8 KiB pages the same rows took about a tenth less commit time than with 4.
    db.pragma('page_size = 8192');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    db.pragma('foreign_keys = ON');
    // Ingest touches the newest index page of every site at every commit: with a thousand sites that
    // is some 10 MB, five times SQLite's default cache, so each commit read most pages back from the OS.
    db.pragma(`cache_size = -${64 * 1024}`);
    migrate(db, migrations);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Runs the missing steps, each in its own transaction with its version bump, so a crash mid-way leaves a consistent version. */
export function migrate(db: Db, migrations: readonly Migration[]): void {
  const current = schemaVersion(db);
  if (current > migrations.length) {
    throw new Error(
      `${db.name}: database schema version ${current} is newer than this hub knows (${migrations.length}); run a newer sentinela-hub`,
    );
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      migrations[v]!(db);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
