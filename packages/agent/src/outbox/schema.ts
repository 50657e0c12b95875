/** Versioned schema of outbox.db. Each migration runs once, in order, tracked by PRAGMA user_version. */
import type { Database } from 'better-sqlite3';

const MIGRATIONS: ReadonlyArray<(db: Database) => void> = [
  // 1: the queue and its meta table.
  (db) => {
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      -- AUTOINCREMENT: a seq is never reused, even after the newest rows are deleted.
      -- payload is last so that reading the small columns never walks a blob's overflow pages.
      CREATE TABLE outbox (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        kind     TEXT    NOT NULL CHECK (kind IN ('status', 'event')),
        priority INTEGER NOT NULL,
        ts       TEXT    NOT NULL,
        bytes    INTEGER NOT NULL,
        sent_at  INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        payload  BLOB    NOT NULL
      );
      CREATE INDEX outbox_send_order ON outbox (priority DESC, seq);
      CREATE INDEX outbox_kind_seq ON outbox (kind, seq, bytes);
    `);
  },
  // 2: restore drill reports (kind 'drill'); SQLite cannot widen a CHECK in place, so the table is rebuilt,
  // keeping its AUTOINCREMENT counter: an emptied outbox must not start again at seq 1 (the hub would take those for duplicates).
  (db) => {
    const last = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").pluck().get() as number | undefined;
    db.exec(`
      CREATE TABLE outbox_v2 (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        kind     TEXT    NOT NULL CHECK (kind IN ('status', 'event', 'drill')),
        priority INTEGER NOT NULL,
        ts       TEXT    NOT NULL,
        bytes    INTEGER NOT NULL,
        sent_at  INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        payload  BLOB    NOT NULL
      );
      INSERT INTO outbox_v2 (seq, kind, priority, ts, bytes, sent_at, attempts, payload)
        SELECT seq, kind, priority, ts, bytes, sent_at, attempts, payload FROM outbox;
      DROP TABLE outbox;
      ALTER TABLE outbox_v2 RENAME TO outbox;
      CREATE INDEX outbox_send_order ON outbox (priority DESC, seq);
      CREATE INDEX outbox_kind_seq ON outbox (kind, seq, bytes);
    `);
    if (last !== undefined) {
      db.prepare("DELETE FROM sqlite_sequence WHERE name = 'outbox'").run();
      db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', ?)").run(last);
    }
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to SCHEMA_VERSION; refuses a database written by a newer agent. */
export function migrate(db: Database, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `${file} has outbox schema version ${current}, newer than this agent understands (${SCHEMA_VERSION}); install the newer agent again`,
    );
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      MIGRATIONS[v]!(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
