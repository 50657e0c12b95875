import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from './harness.test-support.js';
import { MIGRATIONS, openDb } from './database.js';
import { dbPath, schemaVersion } from './store/db.js';
import { orderSteps, type Migration } from './store/migrations.js';

t.test('a fresh database gets the whole schema, a re-open changes nothing', async (t) => {
  const dir = join(tempDir(t), 'data');
  const db = openDb(dir);
  t.ok(existsSync(dbPath(dir)));
  t.equal(schemaVersion(db), MIGRATIONS.length);
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(db.pragma('page_size', { simple: true }), 8192, 'a new database has 8 KiB pages');
  t.equal(db.pragma('synchronous', { simple: true }), 2, 'synchronous=FULL by default');
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]);
  t.same(tables, ['alerts', 'api_tokens', 'audit', 'backup_escrow', 'backup_snapshots', 'connections', 'enroll_tokens', 'maintenance', 'message_hours', 'messages', 'sessions', 'sites', 'streams', 'users']);
  db.prepare("INSERT INTO sites (id, created_at) VALUES ('hf-0001', 'now')").run();
  db.close();

  const again = openDb(dir, { synchronous: 'normal' });
  t.equal(schemaVersion(again), MIGRATIONS.length);
  t.equal(again.pragma('synchronous', { simple: true }), 1, 'synchronous=NORMAL from config');
  t.equal(again.prepare('SELECT COUNT(*) FROM sites').pluck().get(), 1, 'data kept');
  again.close();
});

t.test('migrations run once each, in order', async (t) => {
  const dir = tempDir(t);
  const ran: number[] = [];
  const steps: Migration[] = [
    (db) => (ran.push(1), db.exec('CREATE TABLE a (x)')),
    (db) => (ran.push(2), db.exec('CREATE TABLE b (x)')),
  ];
  openDb(dir, { migrations: steps.slice(0, 1) }).close();
  openDb(dir, { migrations: steps }).close();
  openDb(dir, { migrations: steps }).close();
  t.same(ran, [1, 2]);
});

t.test('a failed migration leaves the previous version', async (t) => {
  const dir = tempDir(t);
  const steps: Migration[] = [(db) => db.exec('CREATE TABLE a (x)'), (db) => { db.exec('CREATE TABLE b (x)'); throw new Error('boom'); }];
  t.throws(() => openDb(dir, { migrations: steps }), /boom/);
  const raw = new Database(dbPath(dir));
  t.equal(raw.pragma('user_version', { simple: true }), 1);
  t.equal(raw.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'").pluck().get(), 0, 'rolled back');
  raw.close();
});

t.test('a database from a newer hub is refused', async (t) => {
  const dir = tempDir(t);
  const raw = new Database(dbPath(dir));
  raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  raw.close();
  t.throws(() => openDb(dir), /newer than this hub knows/);
});

t.test('migration 4 moves messages to a rowid table: rows, dedup, indexes and triggers kept', async (t) => {
  const dir = tempDir(t);
  const old = openDb(dir, { migrations: MIGRATIONS.slice(0, 3) });
  old.prepare("INSERT INTO sites (id, created_at) VALUES ('hf-0001', 'now')").run();
  const insert = 'INSERT OR IGNORE INTO messages (site_id, stream, seq, type, ts, received_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)';
  for (const seq of [2, 1, 3]) old.prepare(insert).run('hf-0001', 'stream-01', seq, 'status', `2026-01-0${seq}T00:00:00.000Z`, `2026-01-0${seq}T00:00:01.000Z`, `{"seq":${seq}}`);
  // A trigger on the table (as upstream mirroring adds) must survive the move.
  old.exec(`CREATE TABLE seen (seq INTEGER) STRICT; CREATE TRIGGER messages_seen AFTER INSERT ON messages BEGIN INSERT INTO seen VALUES (NEW.seq); END;`);
  old.close();

  const db = openDb(dir);
  t.teardown(() => db.close());
  t.equal(schemaVersion(db), MIGRATIONS.length);
  t.same(
    db.prepare('SELECT seq, type, ts, payload FROM messages ORDER BY id').all(),
    [1, 2, 3].map((seq) => ({ seq, type: 'status', ts: `2026-01-0${seq}T00:00:00.000Z`, payload: `{"seq":${seq}}` })),
    'every row copied, in the order received',
  );
  t.equal(db.prepare(insert).run('hf-0001', 'stream-01', 2, 'status', 'x', 'x', '{}').changes, 0, 'a stored (site, stream, seq) is ignored again');
  t.equal(db.prepare(insert).run('hf-0001', 'stream-01', 4, 'event', 'x', 'x', '{}').changes, 1, 'a new one is stored');
  t.same(db.prepare('SELECT seq FROM seen').pluck().all(), [4], 'the trigger fired for the new row');
  t.same(
    db.prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'messages' AND type = 'index' ORDER BY name").pluck().all(),
    ['messages_drills', 'messages_events', 'messages_key'],
    'the time index gave way to hour marks (migration 6), events and drills (migration 7) keep partial indexes',
  );
  t.same(
    db.prepare('SELECT site_id, hour, stream, first_seq FROM message_hours ORDER BY hour').all(),
    [1, 2, 3].map((seq) => ({ site_id: 'hf-0001', hour: `2026-01-0${seq}T00`, stream: 'stream-01', first_seq: seq })),
    'migration 6 marked the hours of the rows already stored',
  );
  t.match(
    db.prepare("EXPLAIN QUERY PLAN SELECT payload FROM messages WHERE site_id = ? AND stream = ? AND seq = ?").all('a', 'b', 1),
    [{ detail: /USING INDEX messages_key/ }],
    'lookups by key use the unique index',
  );
});

t.test('migration 7: rows an older hub stored dated far after their arrival get their arrival time, and the latest status follows', async (t) => {
  const dir = tempDir(t);
  const old = openDb(dir, { migrations: MIGRATIONS.slice(0, 6) });
  old.prepare("INSERT INTO sites (id, created_at, last_status_json, last_status_at, last_status_stream, last_status_seq) VALUES ('hf-0001', 'now', '{}', '2099-01-01T00:00:00.000Z', 'forged-01', 1)").run();
  const insert = old.prepare('INSERT INTO messages (site_id, stream, seq, type, ts, received_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)');
  insert.run('hf-0001', 'forged-01', 1, 'status', '2099-01-01T00:00:00.000Z', '2026-12-01T10:00:00.000Z', '{}');
  insert.run('hf-0001', 'real-0001', 1, 'status', '2026-12-01T10:03:00.000Z', '2026-12-01T10:00:00.000Z', '{}');
  insert.run('hf-0001', 'real-0001', 2, 'status', '2026-11-01T10:00:00.000Z', '2026-12-01T10:00:00.000Z', '{}');
  old.close();
  const db = openDb(dir);
  t.teardown(() => db.close());
  t.same(db.prepare('SELECT ts FROM messages ORDER BY stream, seq').pluck().all(), ['2026-12-01T10:00:00.000Z', '2026-12-01T10:03:00.000Z', '2026-11-01T10:00:00.000Z'], 'only the time past arrival + 5 min changed');
  t.equal(db.prepare("SELECT last_status_at FROM sites WHERE id = 'hf-0001'").pluck().get(), '2026-12-01T10:00:00.000Z', 'the latest status has its row time, which a newer status beats');
});

t.test('the schema steps of the store and the modules fit together: each step once, none missing', async (t) => {
  const up: Migration = () => undefined;
  t.equal(orderSteps([{ step: 2, up }, { step: 1, up }]).length, 2);
  t.throws(() => orderSteps([{ step: 1, up }, { step: 1, up }]), /migration step 1 is given twice/);
  t.throws(() => orderSteps([{ step: 1, up }, { step: 3, up }]), /migration step 2 is missing \(steps go up to 3\)/);
  t.throws(() => orderSteps([{ step: 0, up }]), /not a positive integer/);
  t.equal(MIGRATIONS.length, 9, 'the hub schema has 9 steps (store: 1, 2, 4, 6, 7, 8, 9; backups: 3, 5)');
});
