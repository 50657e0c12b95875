import t from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeUp, upTopic } from '@sentinela/shared';
import { Outbox } from './outbox.js';
import { SCHEMA_VERSION } from './schema.js';
import { memoryLogger, statusBuild, tempDir, type Teardown } from '../testing/fixtures.js';

const SITE = 'hc-test-01';

function open(t: Teardown, opts: Partial<Parameters<typeof Outbox.open>[0]> = {}, dir = tempDir(t)) {
  const ob = Outbox.open({ path: join(dir, 'outbox.db'), siteId: SITE, ...opts });
  t.teardown(() => ob.close());
  return ob;
}

t.test('schema, stream id and stored payloads', async (t) => {
  const dir = tempDir(t);
  const ob = open(t, {}, dir);
  t.match(ob.stream, /^[A-Za-z0-9_-]{16,64}$/);
  const { seq } = ob.append('status', statusBuild(SITE));
  const [row] = ob.nextToSend(10);
  t.equal(row!.seq, seq);
  const decoded = decodeUp(upTopic(SITE, 'status'), row!.payload);
  t.ok(decoded.ok, 'stored bytes are a valid wire message');
  if (decoded.ok && decoded.message.type === 'status') {
    t.equal(decoded.message.seq, seq);
    t.equal(decoded.message.stream, ob.stream);
  }
  ob.close();
  const raw = new Database(join(dir, 'outbox.db'), { readonly: true });
  t.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  t.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  raw.close();
});

t.test('seq only grows, across deletes and reopen; stream is kept', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'outbox.db');
  let ob = Outbox.open({ path, siteId: SITE });
  const stream = ob.stream;
  const seqs = [1, 2, 3].map(() => ob.appendEvent('test.event', 'info', 'hello').seq);
  t.same(seqs, [1, 2, 3]);
  t.equal(ob.ack([3, 2]), 2, 'deleting the newest rows');
  t.equal(ob.appendEvent('test.event', 'info', 'again').seq, 4, 'a deleted seq is never reused');
  ob.close();
  ob = Outbox.open({ path, siteId: SITE });
  t.teardown(() => ob.close());
  t.equal(ob.stream, stream, 'same stream after reopen');
  ob.ack([4]);
  t.equal(ob.append('status', statusBuild(SITE)).seq, 5);
});

t.test('events before status, critical first, then seq order', async (t) => {
  const ob = open(t);
  const s1 = ob.append('status', statusBuild(SITE)).seq;
  const info = ob.appendEvent('a.info', 'info', 'i').seq;
  const s2 = ob.append('status', statusBuild(SITE)).seq;
  const crit = ob.appendEvent('a.crit', 'critical', 'c').seq;
  const warn = ob.appendEvent('a.warn', 'warning', 'w').seq;
  const info2 = ob.appendEvent('a.info', 'info', 'i2').seq;
  t.same(
    ob.nextToSend(100).map((r) => r.seq),
    [crit, warn, info, info2, s1, s2],
  );
  t.same(
    ob.nextToSend(2).map((r) => r.seq),
    [crit, warn],
    'limit',
  );
});

t.test('in-flight rows are skipped until resendAfterSeconds, and reset on reconnect', async (t) => {
  const ob = open(t, { resendAfterSeconds: 60 });
  const a = ob.appendEvent('x.a', 'info', 'a').seq;
  const b = ob.appendEvent('x.b', 'info', 'b').seq;
  const now = Date.now();
  ob.markSent([a], now);
  t.same(
    ob.nextToSend(10, now + 1000).map((r) => r.seq),
    [b],
  );
  t.same(
    ob.nextToSend(10, now + 61_000).map((r) => r.seq),
    [a, b],
    'resent after 60 s without ack',
  );
  const [row] = ob.nextToSend(1, now + 61_000);
  t.equal(row!.attempts, 1);
  ob.markSent([a, b], now);
  t.same(ob.nextToSend(10, now + 1000), []);
  t.equal(ob.resetInflight(), 2);
  t.same(
    ob.nextToSend(10, now + 1000).map((r) => r.seq),
    [a, b],
  );
});

t.test('ack deletes only the acked seqs; ranges too', async (t) => {
  const ob = open(t);
  const seqs = Array.from({ length: 10 }, (_, i) => ob.appendEvent('x.y', 'info', `m${i}`).seq);
  t.equal(ob.ack([2, 5, 99]), 2, 'unknown seqs are ignored');
  t.equal(
    ob.ackRanges([
      [7, 8],
      [10, 10],
    ]),
    3,
  );
  t.same(
    ob.nextToSend(100).map((r) => r.seq),
    seqs.filter((s) => ![2, 5, 7, 8, 10].includes(s)),
  );
  t.ok(ob.getMeta('lastAckAt'));
});

t.test('rejected seqs are dropped and logged', async (t) => {
  const { logger, lines } = memoryLogger();
  const ob = open(t, { logger });
  const a = ob.appendEvent('x.y', 'info', 'a').seq;
  const b = ob.appendEvent('x.y', 'info', 'b').seq;
  t.equal(ob.reject(a, 'payload names another site'), true);
  t.same(
    ob.nextToSend(10).map((r) => r.seq),
    [b],
  );
  const line = lines.find((l) => String(l.msg).includes('rejected'));
  t.ok(line, 'logged');
  t.match(String(line!.msg), /hub rejected message 1: payload names another site/);
});

t.test('stats', async (t) => {
  const ob = open(t);
  t.same(ob.stats(), { pending: 0, pendingBytes: 0, oldestTs: null, thinned: 0 });
  const r1 = ob.append('status', statusBuild(SITE, 100));
  const r2 = ob.appendEvent('x.y', 'warning', 'w');
  const rows = ob.nextToSend(10);
  const s = ob.stats();
  t.equal(s.pending, 2);
  t.equal(s.pendingBytes, r1.bytes + r2.bytes);
  t.equal(s.pendingBytes, rows.reduce((n, r) => n + r.payload.byteLength, 0));
  t.equal(s.oldestTs, rows.find((r) => r.seq === r1.seq)!.ts);
  t.equal(ob.getMeta('lastStatusTs'), s.oldestTs);
});

t.test('thinning: under maxBytes, events kept, oldest status dropped, one event per pass', async (t) => {
  const { logger, lines } = memoryLogger();
  const maxBytes = 60_000;
  const ob = open(t, { maxBytes, logger });
  const events: number[] = [];
  const statuses: number[] = [];
  const passes: Array<{ dropped: number; fromSeq: number; toSeq: number; eventSeq: number }> = [];
  let maxSeen = 0;
  for (let i = 0; i < 400; i++) {
    const r = ob.append('status', statusBuild(SITE, 700));
    statuses.push(r.seq);
    if (r.thinned) passes.push(r.thinned);
    if (i % 10 === 0) {
      const e = ob.appendEvent('test.tick', 'info', `tick ${i}`);
      events.push(e.seq);
      if (e.thinned) passes.push(e.thinned);
    }
    maxSeen = Math.max(maxSeen, ob.stats().pendingBytes);
  }
  t.ok(maxSeen <= maxBytes, `pending bytes never above maxBytes (max seen ${maxSeen})`);
  const left = ob.nextToSend(10_000);
  const leftSeqs = new Set(left.map((r) => r.seq));
  t.ok(passes.length >= 2, `several passes (${passes.length})`);
  t.ok(passes.length < 400 / 5, 'passes are not one per append');
  t.ok(
    events.every((s) => leftSeqs.has(s)),
    'every event is kept',
  );
  const thinnedEvents = left.filter((r) => r.kind === 'event' && r.payload.includes('outbox.thinned'));
  t.equal(thinnedEvents.length, passes.length, 'one outbox.thinned event per pass');
  t.same(
    thinnedEvents.map((r) => r.seq),
    passes.map((p) => p.eventSeq),
  );
  const totalDropped = passes.reduce((n, p) => n + p.dropped, 0);
  t.equal(ob.stats().thinned, totalDropped, 'thinned counter');
  t.equal(statuses.filter((s) => !leftSeqs.has(s)).length, totalDropped, 'only status rows were dropped');
  t.ok(
    statuses.slice(-5).every((s) => leftSeqs.has(s)),
    'the newest samples are all kept',
  );
  const keptShare = (xs: number[]) => xs.filter((s) => leftSeqs.has(s)).length / xs.length;
  t.ok(keptShare(statuses.slice(0, 200)) < keptShare(statuses.slice(200, 380)), 'older history is thinner than recent history');
  t.ok(leftSeqs.has(statuses[0]!), 'the oldest sample is kept (history gets coarser, not cut)');
  const first = passes[0]!;
  t.ok(first.fromSeq < first.toSeq && first.toSeq < statuses[statuses.length - 1]!, 'first pass works on old rows');
  const ev = decodeUp(upTopic(SITE, 'event'), thinnedEvents[0]!.payload);
  t.ok(ev.ok);
  if (ev.ok && ev.message.type === 'event') {
    t.equal(ev.message.code, 'outbox.thinned');
    t.equal(ev.message.severity, 'warning');
    t.same(ev.message.data, { dropped: first.dropped, fromSeq: first.fromSeq, toSeq: first.toSeq });
  }
  t.equal(lines.filter((l) => String(l.msg).includes('reached its limit')).length, passes.length, 'one log line per pass');
});

t.test('thinning never drops events, even over the limit', async (t) => {
  const { logger, lines } = memoryLogger();
  const ob = open(t, { maxBytes: 5_000, logger });
  const seqs: number[] = [];
  for (let i = 0; i < 40; i++) seqs.push(ob.appendEvent('test.big', 'warning', 'y'.repeat(300)).seq);
  t.same(
    ob.nextToSend(1000).map((r) => r.seq).sort((a, b) => a - b),
    seqs,
  );
  t.ok(ob.stats().pendingBytes > 5_000);
  t.equal(ob.stats().thinned, 0);
  const warns = lines.filter((l) => String(l.msg).includes('only events are left'));
  t.equal(warns.length, 1, 'warned once (throttled), not per append');
});
