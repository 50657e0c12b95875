// Ingest on both stores: the same batches give the same rows on SQLite and on PostgreSQL, and on
// PostgreSQL two hub instances (two Ingests on one database) store each message once.
import t from 'tap';
import type { Test } from 'tap';
import { expandRanges, type AckMessage, type UpMessage } from '@sentinela/shared';
import { HubMetrics } from '../metrics.js';
import { openDb } from '../database.js';
import { openPostgres } from '../store/postgres.js';
import { throwawayPostgres } from '../store/postgres.test-support.js';
import { SQL_STEPS } from '../store/sql-schema.js';
import { sqliteSql } from '../store/sqlite-sql.js';
import type { SqlStore } from '../store/sql.js';
import { birth, death, event, LogCapture, status, STREAM, tempDir } from '../harness.test-support.js';
import { Ingest } from './ingest.js';

type Kind = 'sqlite' | 'postgres';

async function store(t: Test, kind: Kind, url?: string): Promise<SqlStore> {
  if (kind === 'sqlite') {
    const db = openDb(tempDir(t));
    const sql = sqliteSql(db, true);
    t.teardown(() => sql.close());
    return sql;
  }
  const sql = await openPostgres({ url: url ?? (await throwawayPostgres(t.teardown)), steps: SQL_STEPS });
  t.teardown(() => sql.close());
  return sql;
}

function ingestOn(kind: Kind, sql: SqlStore, db: Parameters<typeof sqliteSql>[0] | null, commitIntervalMs = 5) {
  const acks: Array<{ siteId: string; ack: AckMessage; storedAtAck: number }> = [];
  const logs = new LogCapture('debug');
  const metrics = new HubMetrics();
  const ingest = new Ingest({
    ...(kind === 'postgres' ? { sql } : { db: db! }),
    logger: logs.logger,
    metrics,
    commitIntervalMs,
    publishAck: async (siteId, ack) => {
      acks.push({ siteId, ack, storedAtAck: await count(sql) });
    },
  });
  return { ingest, acks, logs, metrics };
}

const count = async (sql: SqlStore) => (await sql.one<{ n: number }>('SELECT count(*) AS n FROM messages'))!.n;

/** A store with two sites and an Ingest on it, for `kind`. */
async function setup(t: Test, kind: Kind, commitIntervalMs = 5) {
  let sql: SqlStore;
  let db: Parameters<typeof sqliteSql>[0] | null = null;
  if (kind === 'sqlite') {
    db = openDb(tempDir(t));
    sql = sqliteSql(db, true);
    t.teardown(() => sql.close());
  } else sql = await store(t, kind);
  for (const id of ['hf-0001', 'hf-0002']) await sql.run('INSERT INTO sites (id, created_at) VALUES (?, ?)', [id, '2026-01-01T00:00:00.000Z']);
  return { sql, ...ingestOn(kind, sql, db, commitIntervalMs) };
}

/** What ingest wrote, without the columns that differ by nature (ids, arrival times). */
async function dump(sql: SqlStore) {
  return {
    messages: await sql.query('SELECT site_id, stream, seq, type, ts, payload FROM messages ORDER BY site_id, stream, seq'),
    streams: await sql.query('SELECT site_id, stream, max_seq, received_count, jumped FROM streams ORDER BY site_id, stream'),
    hours: await sql.query('SELECT site_id, hour, stream, first_seq FROM message_hours ORDER BY site_id, hour, stream'),
    sites: await sql.query(
      'SELECT id, connected, bd_seq, agent_version, birth_json, last_status_json, last_status_at, last_status_stream, last_status_seq, last_seen_at IS NOT NULL AS seen FROM sites ORDER BY id',
    ),
    connections: await sql.query('SELECT site_id, bd_seq, kind, clean FROM connections ORDER BY id'),
  };
}

const T0 = '2026-03-01T10:05:00.000Z';
const at = (min: number) => new Date(Date.parse(T0) + min * 60_000).toISOString();

/** Batches that touch every rule of a commit: births, a stale death, duplicates, statuses from two streams, a jump, a future date. */
const BATCHES: Array<Array<[string, UpMessage]>> = [
  [
    ['hf-0001', birth('hf-0001', 1)],
    ['hf-0001', status('hf-0001', 1, STREAM, at(0))],
    ['hf-0001', status('hf-0001', 2, STREAM, at(1))],
    ['hf-0001', status('hf-0001', 2, STREAM, at(1))],
    ['hf-0001', event('hf-0001', 3)],
    ['hf-0002', status('hf-0002', 1, STREAM, at(70))],
    ['hf-0002', status('hf-0002', 5, 'stream-other-02', at(20))],
  ],
  [
    ['hf-0001', status('hf-0001', 2, STREAM, at(1))],
    ['hf-0001', status('hf-0001', 4, STREAM, at(90))],
    ['hf-0001', death('hf-0001', 0)],
    ['hf-0001', status('hf-0001', 5_000_000, STREAM, at(91))],
    ['hf-0002', status('hf-0002', 2, STREAM, '2099-01-01T00:00:00.000Z')],
    ['hf-0002', death('hf-0002', 0)],
    ['hf-0009', status('hf-0009', 1, STREAM, at(0))],
  ],
  [
    ['hf-0001', death('hf-0001', 1, true)],
    ['hf-0002', status('hf-0002', 6, 'stream-other-02', at(200))],
    ['hf-0002', status('hf-0002', 3, STREAM, at(100))],
  ],
];

t.test('the same batches give the same rows and the same acks on SQLite and on PostgreSQL', async (t) => {
  const results: Record<Kind, { dump: unknown; acks: unknown }> = {} as never;
  for (const kind of ['sqlite', 'postgres'] as const) {
    const { sql, ingest, acks, metrics } = await setup(t, kind);
    for (const batch of BATCHES) {
      for (const [site, m] of batch) ingest.accept(site, m);
      await ingest.flush();
    }
    ingest.reject('hf-0001', STREAM, 99, 'schema: bad');
    await ingest.close();
    const d = (await dump(sql)) as Awaited<ReturnType<typeof dump>>;
    // Times from the future are replaced by the arrival time, which differs between the two runs.
    for (const m of d.messages as Array<{ ts: string }>) if (m.ts > '2098') t.fail('a future time was kept');
    for (const m of d.messages as Array<{ ts: string }>) if (m.ts > at(300)) m.ts = 'arrival';
    for (const s of d.sites as Array<{ last_status_at: string | null; seen: unknown }>) {
      if (s.last_status_at && s.last_status_at > at(300)) s.last_status_at = 'arrival';
      s.seen = Number(s.seen);
    }
    results[kind] = { dump: d, acks: acks.map((a) => ({ site: a.siteId, stream: a.ack.stream, acked: a.ack.acked, rejected: a.ack.rejected })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) };
    t.match(await metrics.registry.getSingleMetricAsString('sentinela_hub_messages_duplicate_total'), /total 2$/m, `${kind}: two duplicates counted`);
    t.match(await metrics.registry.getSingleMetricAsString('sentinela_hub_seq_jumps_total'), /total 1$/m, `${kind}: one seq jump`);
  }
  t.same(results.postgres.dump, results.sqlite.dump, 'the same rows');
  t.same(results.postgres.acks, results.sqlite.acks, 'the same acks');
  const d = results.postgres.dump as Awaited<ReturnType<typeof dump>>;
  t.same(
    d.connections.map((c) => c.kind),
    ['birth', 'death'],
    'the stale deaths (bdSeq 0) are not stored, the current one is',
  );
});

t.test('PostgreSQL: acks leave after the commit; a failed commit acks nothing', async (t) => {
  const { sql, ingest, acks, logs } = await setup(t, 'postgres', 50);
  for (const seq of [1, 2, 3, 5]) ingest.accept('hf-0001', status('hf-0001', seq));
  ingest.accept('hf-0002', event('hf-0002', 9));
  t.equal(acks.length, 0, 'nothing acked before the commit');
  await ingest.flush();
  t.equal(acks.length, 2);
  t.ok(acks.every((a) => a.storedAtAck === 5), 'every ack saw the committed rows');
  t.same(acks.find((a) => a.siteId === 'hf-0001')!.ack.acked, [[1, 3], [5, 5]]);
  await sql.exec('DROP TABLE streams');
  ingest.accept('hf-0001', status('hf-0001', 6));
  await ingest.flush();
  t.equal(acks.length, 2, 'no new ack');
  await logs.waitFor(/could not store a batch of 1 messages .*nothing acked/);
  t.equal(await count(sql), 5, 'the batch rolled back');
});

t.test('PostgreSQL: two hub instances given overlapping copies of the same messages store each once', async (t) => {
  const url = await throwawayPostgres(t.teardown);
  const a = await store(t, 'postgres', url);
  const b = await store(t, 'postgres', url);
  const sites = Array.from({ length: 20 }, (_, i) => `hf-${String(i + 1).padStart(4, '0')}`);
  for (const id of sites) await a.run('INSERT INTO sites (id, created_at) VALUES (?, ?)', [id, T0]);
  const ia = ingestOn('postgres', a, null, 2);
  const ib = ingestOn('postgres', b, null, 3);
  const N = 60;
  // Every message goes to one instance, and a third of them to both (a redelivery after a failover).
  for (let seq = 1; seq <= N; seq++) {
    for (const [i, site] of sites.entries()) {
      const m = status(site, seq, STREAM, at(seq));
      const pick = (seq + i) % 3;
      if (pick !== 1) ia.ingest.accept(site, m);
      if (pick !== 0) ib.ingest.accept(site, m);
    }
    if (seq % 10 === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.all([ia.ingest.close(), ib.ingest.close()]);
  t.same(
    await a.query('SELECT site_id, count(*) AS n, count(DISTINCT seq) AS d, max(seq) AS hi FROM messages GROUP BY site_id ORDER BY site_id'),
    sites.map((s) => ({ site_id: s, n: N, d: N, hi: N })),
    'every seq of every site once',
  );
  t.same(
    await a.query('SELECT site_id, received_count, max_seq FROM streams ORDER BY site_id'),
    sites.map((s) => ({ site_id: s, received_count: N, max_seq: N })),
    'counted once each: no gap, no excess',
  );
  const acked = new Map<string, Set<number>>();
  for (const x of [...ia.acks, ...ib.acks]) {
    const set = acked.get(x.siteId) ?? new Set();
    for (const s of expandRanges(x.ack.acked)) set.add(s);
    acked.set(x.siteId, set);
  }
  t.ok(sites.every((s) => acked.get(s)?.size === N), 'every message acked by an instance');
  t.same(
    (await a.query<{ last_status_seq: number }>('SELECT last_status_seq FROM sites ORDER BY id')).map((r) => r.last_status_seq),
    sites.map(() => N),
    'each site ends with its newest status, whichever instance stored it',
  );
});
