import t from 'tap';
import type { AckMessage } from '@sentinela/shared';
import { HubMetrics } from '../metrics.js';
import { openDb } from '../database.js';
import type { Db } from '../store/db.js';
import { createSite } from '../store/sites.js';
import { birth, death, encodeUp, event, LogCapture, status, STREAM, tempDir } from '../harness.test-support.js';
import { expandRanges, HubConfig, upTopic } from '@sentinela/shared';
import { checkUp } from './check.js';
import { Ingest, type IngestOptions } from './ingest.js';
import { statusSeries } from '../core/history.js';

function setup(t: { teardown(fn: () => unknown): void }, commitIntervalMs = 5, extra: Partial<IngestOptions> = {}) {
  const db = openDb(tempDir(t));
  t.teardown(() => db.close());
  createSite(db, { id: 'hf-0001' });
  createSite(db, { id: 'hf-0002' });
  const acks: Array<{ siteId: string; ack: AckMessage; storedAtAck: number }> = [];
  const logs = new LogCapture('debug');
  const metrics = new HubMetrics();
  const ingest = new Ingest({
    db,
    logger: logs.logger,
    metrics,
    commitIntervalMs,
    publishAck: async (siteId, ack) => {
      // What a reader sees when the ack leaves: the commit must be visible already.
      acks.push({ siteId, ack, storedAtAck: rows(db) });
    },
    ...extra,
  });
  return { db, ingest, acks, logs, metrics };
}

const rows = (db: Db) => db.prepare('SELECT COUNT(*) FROM messages').pluck().get() as number;

t.test('group commit: one transaction, one ack per (site, stream), after the commit', async (t) => {
  const { db, ingest, acks } = setup(t, 50);
  for (const seq of [1, 2, 3, 5]) ingest.accept('hf-0001', status('hf-0001', seq));
  ingest.accept('hf-0001', event('hf-0001', 1, 'other-stream-01'));
  ingest.accept('hf-0002', event('hf-0002', 9));
  t.equal(rows(db), 0, 'nothing committed before the interval');
  t.equal(acks.length, 0, 'nothing acked before the commit');
  await ingest.flush();
  t.equal(rows(db), 6);
  t.equal(acks.length, 3);
  const a = acks.find((x) => x.siteId === 'hf-0001' && x.ack.stream === STREAM)!;
  t.same(a.ack.acked, [[1, 3], [5, 5]], 'ranges');
  t.same(a.ack.rejected, []);
  t.ok(acks.every((x) => x.storedAtAck === 6), 'every ack saw the committed rows');
  const gaps = db.prepare('SELECT max_seq, received_count FROM streams WHERE site_id = ? AND stream = ?').get('hf-0001', STREAM);
  t.same(gaps, { max_seq: 5, received_count: 4 }, 'gap detection: one missing');
});

t.test('the commit interval flushes on its own', async (t) => {
  const { ingest, acks } = setup(t, 5);
  ingest.accept('hf-0001', status('hf-0001', 1));
  // Nothing calls flush: the 5 ms timer must commit and ack by itself (polled, not timed: the machine may be slow).
  for (let i = 0; i < 500 && acks.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(acks.length, 1, 'acked without a flush');
});

t.test('under a steady stream, a batch is committed once its oldest message waited the interval, also right after a disk sync', async (t) => {
  const { db, ingest, acks } = setup(t, 100);
  // One message every 2 ms for 0.6 s: without the wait after each sync, every sync (a few ms) ended in a commit.
  let seq = 0;
  const started = Date.now();
  while (Date.now() - started < 600) {
    ingest.accept('hf-0001', status('hf-0001', ++seq));
    await new Promise((r) => setTimeout(r, 2));
  }
  await ingest.flush();
  t.equal(rows(db), seq, 'every message stored');
  const acked = acks.flatMap((a) => [...expandRanges(a.ack.acked)]);
  t.equal(acked.length, seq, 'every message acked once');
  t.ok(acks.length <= 8, `${acks.length} commits for ${seq} messages over 0.6 s (at most one per 100 ms, and the final flush)`);
  t.ok(acks.length >= 3, `${acks.length} commits: batches are not held back beyond the interval`);
});

t.test('idempotent: the same seq twice is one row, acked twice', async (t) => {
  const { db, ingest, acks, metrics } = setup(t);
  ingest.accept('hf-0001', status('hf-0001', 7));
  await ingest.flush();
  ingest.accept('hf-0001', status('hf-0001', 7));
  await ingest.flush();
  t.equal(rows(db), 1);
  t.same(acks.map((a) => a.ack.acked), [[[7, 7]], [[7, 7]]]);
  t.same(db.prepare('SELECT received_count FROM streams').pluck().get(), 1, 'counted once');
  t.match(await metrics.registry.getSingleMetricAsString('sentinela_hub_messages_duplicate_total'), /total 1$/m);
});

t.test('a failed commit acks nothing', async (t) => {
  const { db, ingest, acks, logs } = setup(t);
  db.exec('DROP TABLE streams');
  ingest.accept('hf-0001', status('hf-0001', 1));
  await ingest.flush();
  t.equal(acks.length, 0);
  await logs.waitFor(/could not store a batch of 1 messages .*nothing acked/);
});

// The console's "since T" reads go through hour marks (store/message-hours.ts): the rows they find
// must be exactly those a scan of every stored row finds.
const statusTimesSince = (db: Db, from: string) =>
  (db.prepare(`SELECT ts FROM messages WHERE site_id = 'hf-0001' AND type = 'status' AND ts >= ? ORDER BY ts`).pluck().all(from) as string[]).map((ts) => Math.round(Date.parse(ts) / 1000));

t.test('history since a time finds every status row, also when the agent clock jumped back and forth', async (t) => {
  const { db, ingest } = setup(t);
  const times = ['2026-03-01T10:05:00.000Z', '2026-03-01T10:50:00.000Z', '2026-03-01T11:10:00.000Z', '2026-03-01T09:30:00.000Z', '2037-01-01T00:00:00.000Z', '2026-03-01T11:20:00.000Z'];
  // Two batches, so that marks are both written and found already known.
  times.slice(0, 3).forEach((ts, i) => ingest.accept('hf-0001', status('hf-0001', i + 1, STREAM, ts)));
  ingest.accept('hf-0001', status('hf-0001', 1, 'stream-other', '2026-03-01T10:40:00.000Z'));
  await ingest.flush();
  times.slice(3).forEach((ts, i) => ingest.accept('hf-0001', status('hf-0001', i + 4, STREAM, ts)));
  ingest.accept('hf-0002', status('hf-0002', 1, STREAM, '2026-03-01T10:10:00.000Z'));
  await ingest.flush();
  const froms = ['2026-03-01T09:00:00.000Z', '2026-03-01T09:30:00.000Z', '2026-03-01T10:06:00.000Z', '2026-03-01T10:45:00.000Z', '2026-03-01T11:15:00.000Z', '2030-01-01T00:00:00.000Z', '2038-01-01T00:00:00.000Z'];
  for (const from of froms) {
    const series = statusSeries(db, 'hf-0001', new Date(from), 1000);
    t.same(series.t, statusTimesSince(db, from), `since ${from}`);
  }
  t.same(statusSeries(db, 'hf-0001', new Date(froms[2]!), 1000).t.length, 5, 'the other stream and the later rows, not the other site');
});

t.test('after a commit that rolled back, the hours of its rows are marked when they are stored', async (t) => {
  const { db, ingest, acks } = setup(t);
  db.exec(`CREATE TABLE trouble (x INTEGER) STRICT;
    INSERT INTO trouble VALUES (1);
    CREATE TRIGGER fail_streams BEFORE INSERT ON streams WHEN EXISTS (SELECT 1 FROM trouble) BEGIN SELECT RAISE(ABORT, 'disk trouble'); END;`);
  ingest.accept('hf-0001', status('hf-0001', 1, STREAM, '2026-03-01T10:05:00.000Z'));
  await ingest.flush();
  t.equal(acks.length, 0, 'the failed commit acked nothing');
  db.exec('DELETE FROM trouble');
  ingest.accept('hf-0001', status('hf-0001', 1, STREAM, '2026-03-01T10:05:00.000Z'));
  ingest.accept('hf-0001', status('hf-0001', 2, STREAM, '2026-03-01T10:06:00.000Z'));
  await ingest.flush();
  t.same(acks[0]!.ack.acked, [[1, 2]]);
  t.same(statusSeries(db, 'hf-0001', new Date('2026-03-01T10:00:00.000Z'), 1000).t, statusTimesSince(db, '2026-03-01T10:00:00.000Z'));
  t.equal(statusTimesSince(db, '2026-03-01T10:00:00.000Z').length, 2);
});

t.test('rejections are acked as rejected', async (t) => {
  const { ingest, acks } = setup(t);
  ingest.reject('hf-0001', STREAM, 4, 'invalid: host: required');
  ingest.accept('hf-0001', status('hf-0001', 3));
  await ingest.flush();
  t.same(acks[0]!.ack.acked, [[3, 3]]);
  t.same(acks[0]!.ack.rejected, [{ seq: 4, reason: 'invalid: host: required' }]);
});

t.test('birth, death and stale death', async (t) => {
  const { db, ingest, logs } = setup(t);
  const site = () => db.prepare('SELECT connected, bd_seq, agent_version, birth_json, last_seen_at FROM sites WHERE id = ?').get('hf-0001') as Record<string, any>;
  ingest.accept('hf-0001', birth('hf-0001', 3));
  await ingest.flush();
  t.equal(site().connected, 1);
  t.equal(site().bd_seq, 3);
  t.equal(JSON.parse(site().birth_json).agent.hostname, 'hf-0001-srv');
  t.ok(site().last_seen_at);

  ingest.accept('hf-0001', death('hf-0001', 2));
  await ingest.flush();
  t.equal(site().connected, 1, 'death of an older connection ignored');
  await logs.waitFor(/ignored a stale death of site hf-0001 \(bdSeq 2, current connection is bdSeq 3\)/);

  ingest.accept('hf-0001', death('hf-0001', 3, true));
  await ingest.flush();
  t.equal(site().connected, 0, 'death of the current connection');
  t.same(db.prepare('SELECT kind, bd_seq, clean FROM connections ORDER BY id').all(), [
    { kind: 'birth', bd_seq: 3, clean: null },
    { kind: 'death', bd_seq: 3, clean: 1 },
  ]);
});

t.test('latest status: newer seq of the stream, or a later time from another stream', async (t) => {
  const { db, ingest } = setup(t);
  const latest = () => db.prepare('SELECT last_status_stream, last_status_seq FROM sites WHERE id = ?').get('hf-0001');
  ingest.accept('hf-0001', status('hf-0001', 5, STREAM, '2025-01-01T10:00:00Z'));
  ingest.accept('hf-0001', status('hf-0001', 4, STREAM, '2025-01-01T11:00:00Z'));
  await ingest.flush();
  t.same(latest(), { last_status_stream: STREAM, last_status_seq: 5 }, 'an older seq arriving late does not win');
  ingest.accept('hf-0001', status('hf-0001', 1, 'new-stream-0001', '2025-01-01T09:00:00Z'));
  await ingest.flush();
  t.same(latest(), { last_status_stream: STREAM, last_status_seq: 5 }, 'an older time from another stream does not win');
  ingest.accept('hf-0001', status('hf-0001', 2, 'new-stream-0001', '2025-01-02T09:00:00Z'));
  await ingest.flush();
  t.same(latest(), { last_status_stream: 'new-stream-0001', last_status_seq: 2 }, 'a reinstalled agent takes over by time');
});

t.test('a message dated ahead of its arrival is stored with its arrival time: a 2099 stream cannot stay the latest (issue 18 item 2)', async (t) => {
  const { db, ingest, logs, metrics } = setup(t);
  const latest = () => db.prepare('SELECT last_status_stream, last_status_seq, last_status_at FROM sites WHERE id = ?').get('hf-0001') as Record<string, unknown>;
  // A forged (or dead-clock) stream dated 2099 arrives first…
  const t0 = new Date().toISOString();
  ingest.accept('hf-0001', status('hf-0001', 1, 'forged-stream-01', '2099-01-01T00:00:00.000Z'));
  ingest.accept('hf-0001', { ...event('hf-0001', 2, 'forged-stream-01'), ts: '2099-01-01T00:00:00.000Z' });
  await ingest.flush();
  const stored = db.prepare("SELECT ts, payload FROM messages WHERE stream = 'forged-stream-01' AND seq = 1").get() as { ts: string; payload: string };
  t.ok(stored.ts >= t0 && stored.ts < '2099', `stored with its arrival time (${stored.ts})`);
  t.match(JSON.parse(stored.payload), { ts: '2099-01-01T00:00:00.000Z' }, 'the payload is kept as the site sent it');
  await new Promise((r) => setTimeout(r, 5));
  // …then the real agent sends its status, dated now (a clock a minute ahead keeps its own time).
  const now = new Date(Date.now() + 60_000).toISOString();
  ingest.accept('hf-0001', status('hf-0001', 7, STREAM, now));
  ingest.accept('hf-0001', event('hf-0001', 8, STREAM));
  await ingest.flush();
  t.match(latest(), { last_status_stream: STREAM, last_status_seq: 7, last_status_at: now }, "the real agent's status is the latest");
  const events = db.prepare("SELECT seq FROM messages WHERE site_id = 'hf-0001' AND type = 'event' ORDER BY ts DESC, seq DESC").pluck().all();
  t.same(events, [8, 2], 'the newest event first, not the one dated 2099');
  t.match(await metrics.registry.getSingleMetricAsString('sentinela_hub_messages_future_dated_total'), /total 2/);
  t.match(logs.find((l) => /dated 2099/.test(l.msg))?.msg, /^site hf-0001 sent a status dated 2099-01-01T00:00:00.000Z, after it arrived \(.*\): its clock is ahead; stored with the arrival time$/);
});

t.test('how far ahead a message may be dated is mqtt.maxClockAheadSeconds (default 5 minutes)', async (t) => {
  const now = new Date('2026-11-24T10:00:00.000Z');
  const ahead = '2026-11-24T10:02:00.000Z'; // 2 minutes ahead of the hub
  const stored = async (extra: Partial<IngestOptions>) => {
    const { db, ingest } = setup(t, 5, { now: () => now, ...extra });
    ingest.accept('hf-0001', status('hf-0001', 1, STREAM, ahead));
    await ingest.flush();
    return db.prepare('SELECT ts FROM messages WHERE seq = 1').pluck().get() as string;
  };
  t.equal(HubConfig.parse({ hubId: 'h', dataDir: '/d', mqtt: { listen: { port: 1 }, allowPlaintext: true }, http: { listen: { port: 2 } } }).mqtt.maxClockAheadSeconds, 300, 'the default is 300 s');
  t.equal(await stored({}), ahead, 'within the default 300 s: its own time');
  t.equal(await stored({ maxClockAheadSeconds: 300 }), ahead, 'within 300 s: its own time');
  t.equal(await stored({ maxClockAheadSeconds: 60 }), now.toISOString(), 'past 60 s: the arrival time');
  t.equal(await stored({ maxClockAheadSeconds: 0 }), now.toISOString(), '0: any time ahead takes the arrival time');
});

t.test('close commits the last batch and refuses more', async (t) => {
  const { db, ingest, acks, logs } = setup(t, 1000);
  ingest.accept('hf-0001', event('hf-0001', 1));
  await ingest.close();
  t.equal(rows(db), 1);
  t.equal(acks.length, 1);
  ingest.accept('hf-0001', event('hf-0001', 2));
  t.equal(ingest.pendingCount, 0);
  await logs.waitFor(/while the hub is stopping/);
});

t.test('message times are stored in UTC with milliseconds, whatever form the agent sent', async (t) => {
  const { db, ingest } = setup(t);
  const sent = ['2026-11-24T10:00:00.123Z', '2026-11-24T10:00:00+02:00', '2026-11-24T10:00:00.5-01:30', '2026-11-24T10:00:00Z'];
  sent.forEach((ts, i) => ingest.accept('hf-0001', { ...status('hf-0001', i + 1), ts }));
  await ingest.flush();
  const stored = db.prepare('SELECT ts FROM messages WHERE site_id = ? ORDER BY seq').pluck().all('hf-0001');
  t.same(stored, ['2026-11-24T10:00:00.123Z', '2026-11-24T08:00:00.000Z', '2026-11-24T11:30:00.500Z', '2026-11-24T10:00:00.000Z']);
});

t.test('payloads are stored as the text received, whether kept as bytes (ASCII) or as text (other UTF-8)', async (t) => {
  const { db, ingest } = setup(t);
  const ascii = Buffer.from(encodeUp(status('hf-0001', 1)));
  const other = Buffer.from(encodeUp({ ...event('hf-0001', 2), message: 'Gerador de reserva ligado – Lichinga, manutenção às 14h' } as never));
  for (const [payload, kind] of [[ascii, 'status'], [other, 'event']] as const) {
    const r = checkUp('hf-0001', upTopic('hf-0001', kind), payload, 256 * 1024);
    if (!r.ok) throw new Error(r.text);
    t.equal(Buffer.isBuffer(r.raw), payload === ascii, kind === 'status' ? 'ASCII: the received bytes are kept' : 'non-ASCII: the decoded text is kept');
    ingest.accept('hf-0001', r.message, r.raw);
  }
  await ingest.flush();
  const stored = db.prepare('SELECT seq, typeof(payload) AS type, payload FROM messages ORDER BY seq').all() as Array<{ seq: number; type: string; payload: string }>;
  t.same(stored.map((r) => r.type), ['text', 'text'], 'stored as TEXT');
  t.equal(stored[0]!.payload, ascii.toString('utf8'), 'the ASCII payload, byte for byte');
  t.equal(stored[1]!.payload, other.toString('utf8'), 'the UTF-8 payload, character for character');
  const site = db.prepare('SELECT typeof(last_status_json) AS type, last_status_json AS json FROM sites WHERE id = ?').get('hf-0001') as { type: string; json: string };
  t.same(site, { type: 'text', json: ascii.toString('utf8') }, 'the latest status as text');
});
