import t from 'tap';
import type { Test } from 'tap';
import { tempDir } from './harness.test-support.js';
import { MIGRATIONS, openDb } from './database.js';
import { openPostgres, positional } from './store/postgres.js';
import { throwawayPostgres } from './store/postgres.test-support.js';
import { migrateSql } from './store/sql-migrate.js';
import { SQL_STEPS } from './store/sql-schema.js';
import { sqliteSql } from './store/sqlite-sql.js';
import type { SqlStore } from './store/sql.js';

/** Each test body runs on a fresh SQLite hub database and on a fresh PostgreSQL one. */


async function eachStore(t: Test, body: (sql: SqlStore) => Promise<void>): Promise<void> {
  await t.test('sqlite', async (t) => {
    const db = openDb(tempDir(t));
    const sql = sqliteSql(db, true);
    t.teardown(() => sql.close());
    await body(sql);
  });
  await t.test('postgres', async (t) => {
    const sql = await openPostgres({ url: await throwawayPostgres(t.teardown), steps: SQL_STEPS });
    t.teardown(() => sql.close());
    await body(sql);
  });
}

t.test('positional parameters: ? outside quotes only', async (t) => {
  t.equal(positional("SELECT ? WHERE a = '?' AND b = ?"), "SELECT $1 WHERE a = '?' AND b = $2");
});

t.test('the facade: query, one, run, transaction with rollback', (t) =>
  eachStore(t, async (sql) => {
    await sql.run('INSERT INTO sites (id, created_at) VALUES (?, ?)', ['hf-0001', '2026-01-01T00:00:00.000Z']);
    t.same(await sql.query('SELECT id, connected FROM sites'), [{ id: 'hf-0001', connected: 0 }]);
    t.equal((await sql.one<{ n: number }>('SELECT count(*) AS n FROM sites'))?.n, 1, 'count(*) is a number on both');
    t.equal(await sql.one('SELECT id FROM sites WHERE id = ?', ['nope']), undefined);
    await t.rejects(
      sql.transaction(async (tx) => {
        await tx.run('INSERT INTO sites (id, created_at) VALUES (?, ?)', ['hf-0002', 'x']);
        throw new Error('boom');
      }),
      /boom/,
    );
    t.equal((await sql.one<{ n: number }>('SELECT count(*) AS n FROM sites'))?.n, 1, 'rolled back');
    const changes = await sql.transaction(async (tx) => (await tx.run('UPDATE sites SET connected = 1 WHERE id = ?', ['hf-0001'])).changes);
    t.equal(changes, 1);
    t.equal((await sql.run('INSERT INTO messages (site_id, stream, seq, type, ts, received_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', ['hf-0001', 's', 2 ** 40, 'status', 't', 't', '{}'])).changes, 1);
    t.equal((await sql.run('INSERT INTO messages (site_id, stream, seq, type, ts, received_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', ['hf-0001', 's', 2 ** 40, 'status', 't', 't', '{}'])).changes, 0, 'the unique key deduplicates');
    t.same(await sql.query('SELECT seq FROM messages'), [{ seq: 2 ** 40 }], 'a seq past 32 bits comes back as the same number');
  }),
);

t.test("PostgreSQL's baseline is SQLite's schema at the same step: same tables, same columns, same NOT NULLs", async (t) => {
  const db = openDb(tempDir(t));
  t.teardown(() => db.close());
  t.equal(MIGRATIONS.length, Math.max(...SQL_STEPS.map((s) => s.step)), 'every SQLite step has its counterpart in SQL_STEPS');
  const lite = new Map<string, string[]>();
  for (const table of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]) {
    const cols = db.prepare(`SELECT name, "notnull" AS nn, pk FROM pragma_table_info(?)`).all(table) as Array<{ name: string; nn: number; pk: number }>;
    lite.set(table, cols.map((c) => `${c.name}${c.nn || c.pk ? ' not null' : ''}`).sort());
  }
  const sql = await openPostgres({ url: await throwawayPostgres(t.teardown), steps: SQL_STEPS });
  t.teardown(() => sql.close());
  const rows = await sql.query<{ table_name: string; column_name: string; is_nullable: string }>(
    "SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_version'",
  );
  const pg = new Map<string, string[]>();
  for (const r of rows) pg.set(r.table_name, [...(pg.get(r.table_name) ?? []), `${r.column_name}${r.is_nullable === 'NO' ? ' not null' : ''}`]);
  for (const cols of pg.values()) cols.sort();
  t.same(Object.fromEntries([...pg].sort()), Object.fromEntries([...lite].sort()));
  const indexes = await sql.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey'");
  const liteIndexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").pluck().all() as string[];
  t.same(
    indexes.map((i) => i.indexname).filter((n) => n !== 'users_name').sort(),
    liteIndexes.sort(),
    'the same named indexes (users_name stands for COLLATE NOCASE)',
  );
});

t.test('PostgreSQL migrations: once, under a lock when instances start together; a newer database is refused', async (t) => {
  const url = await throwawayPostgres(t.teardown);
  const [a, b] = await Promise.all([openPostgres({ url, steps: SQL_STEPS }), openPostgres({ url, steps: SQL_STEPS })]);
  t.teardown(() => Promise.all([a.close(), b.close()]));
  t.same(await a.query('SELECT version FROM schema_version'), [{ version: 9 }], 'one version row');
  const next = [...SQL_STEPS, { step: 10, sql: () => 'ALTER TABLE sites ADD COLUMN note TEXT' }];
  t.equal(await migrateSql(a, next), 10);
  t.equal(await migrateSql(b, next), 10, 'run again: nothing to do');
  t.same(await a.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'sites' AND column_name = 'note'"), [{ column_name: 'note' }]);
  await t.rejects(migrateSql(a, SQL_STEPS), /schema version 10 is newer than this hub knows \(9\)/);
  await t.rejects(openPostgres({ url, steps: SQL_STEPS }), /newer than this hub knows/, 'a pool that cannot migrate is closed and refused');
});

t.test('the SQLite facade queues a statement behind a transaction in flight', async (t) => {
  const db = openDb(tempDir(t));
  const sql = sqliteSql(db, true);
  t.teardown(() => sql.close());
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const tx = sql.transaction(async (tx) => {
    await tx.run('INSERT INTO sites (id, created_at) VALUES (?, ?)', ['hf-0001', 'x']);
    await gate;
    throw new Error('rolled back');
  });
  const outside = sql.run('INSERT INTO sites (id, created_at) VALUES (?, ?)', ['hf-0002', 'x']);
  release();
  await t.rejects(tx);
  await outside;
  t.same(await sql.query('SELECT id FROM sites'), [{ id: 'hf-0002' }], 'the statement outside was not rolled back with the transaction');
});
