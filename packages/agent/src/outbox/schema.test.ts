import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate, SCHEMA_VERSION } from './schema.js';

t.test('schema 2 takes drill rows and keeps the seq counter of an outbox emptied by acks', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-schema-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'outbox.db');
  const db = new Database(file);
  t.teardown(() => db.close());
  // A version-1 outbox whose 41 messages were all acked (deleted).
  db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
    CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL CHECK (kind IN ('status', 'event')), priority INTEGER NOT NULL, ts TEXT NOT NULL, bytes INTEGER NOT NULL, sent_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0, payload BLOB NOT NULL);`);
  db.pragma('user_version = 1');
  const insert = db.prepare("INSERT INTO outbox (kind, priority, ts, bytes, payload) VALUES (?, 0, 'x', 0, x'')");
  for (let i = 0; i < 40; i++) insert.run('status');
  insert.run('event');
  db.exec('DELETE FROM outbox');
  migrate(db, file);
  t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  t.equal(Number(insert.run('drill').lastInsertRowid), 42, 'the next seq follows the last one ever used, never 1 again (the hub would take it for a duplicate)');
  t.throws(() => insert.run('telemetry'), /CHECK/, 'other kinds are still refused');
});
