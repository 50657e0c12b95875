import t from 'tap';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeUp, upTopic } from '@sentinela/shared';
import { Outbox } from './outbox.js';
import { SCHEMA_VERSION } from './schema.js';
import { memoryLogger, statusBuild, tempDir, type Teardown } from '../fixtures.test-support.js';

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

interface SummaryData {
  dropped: number;
  byClass: Record<'status' | 'info' | 'warning' | 'critical', number>;
  fromSeq: number;
  toSeq: number;
  firstTs: string;
  lastTs: string;
  passes: number;
  streamTotal: number;
}

/** The outbox.thinned events in the outbox, decoded. */
function summaries(ob: Outbox): Array<{ seq: number; severity: string; message: string; data: SummaryData }> {
  return ob
    .nextToSend(1_000_000, Date.now() + 365 * 86400_000)
    .map((r) => decodeUp(upTopic(SITE, r.kind), r.payload))
    .flatMap((d) => (d.ok && d.message.type === 'event' && d.message.code === 'outbox.thinned' ? [d.message] : []))
    .map((m) => ({ seq: m.seq, severity: m.severity, message: m.message, data: m.data as unknown as SummaryData }));
}

t.test('thinning: status samples get coarser, events kept, all passes in one summary', async (t) => {
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
  const left = new Set(ob.nextToSend(10_000).map((r) => r.seq));
  t.ok(passes.length >= 2, `several passes (${passes.length})`);
  t.ok(passes.length < 400 / 5, 'passes are not one per append');
  t.ok(
    events.every((s) => left.has(s)),
    'every event is kept while status samples can go',
  );
  const [summary, ...more] = summaries(ob);
  t.equal(more.length, 0, 'one outbox.thinned event for all passes');
  t.ok(
    passes.every((p) => p.eventSeq === summary!.seq),
    'every pass counted in the same row',
  );
  const totalDropped = passes.reduce((n, p) => n + p.dropped, 0);
  t.equal(ob.stats().thinned, totalDropped, 'thinned counter');
  t.equal(statuses.filter((s) => !left.has(s)).length, totalDropped, 'only status rows were dropped');
  t.same(summary!.data.byClass, { status: totalDropped, info: 0, warning: 0, critical: 0 });
  t.equal(summary!.data.dropped, totalDropped);
  t.equal(summary!.data.passes, passes.length);
  t.equal(summary!.data.streamTotal, totalDropped);
  t.equal(summary!.severity, 'warning');
  t.match(summary!.message, new RegExp(`dropped ${totalDropped} messages \\(${totalDropped} status samples; seq \\d+ to \\d+, recorded .* in ${passes.length} passes`));
  t.ok(
    statuses.slice(-5).every((s) => left.has(s)),
    'the newest samples are all kept',
  );
  const keptShare = (xs: number[]) => xs.filter((s) => left.has(s)).length / xs.length;
  t.ok(keptShare(statuses.slice(0, 200)) < keptShare(statuses.slice(200, 380)), 'older history is thinner than recent history');
  t.ok(left.has(statuses[0]!), 'the oldest sample is kept (history gets coarser, not cut)');
  const thinLines = lines.filter((l) => String(l.msg).startsWith('the outbox is at its limit'));
  t.equal(thinLines.length, 1, 'one log line, not one per pass (the next comes minutes later)');
  t.match(String(thinLines[0]!.msg), /dropped \d+ messages since .* \(\d+ status samples; seq \d+ to \d+\)/);
});

t.test('a summary is rewritten in place until it is sent; then the next pass starts another', async (t) => {
  const maxBytes = 20_000;
  const ob = open(t, { maxBytes });
  const fill = (until: () => boolean) => {
    for (let i = 0; i < 300 && !until(); i++) ob.append('status', statusBuild(SITE, 500));
  };
  fill(() => summaries(ob).length === 1);
  const first = summaries(ob)[0]!;
  const before = first.data.dropped;
  fill(() => summaries(ob)[0]!.data.passes >= 3);
  const updated = summaries(ob);
  t.equal(updated.length, 1, 'still one summary');
  t.equal(updated[0]!.seq, first.seq, 'same seq: updated in place');
  t.ok(updated[0]!.data.dropped > before, 'with the new drops counted');
  // The link sends it: from now on the hub may hold this version, so it is never rewritten.
  ob.markSent([first.seq]);
  const sent = updated[0]!.data;
  fill(() => summaries(ob).length === 2);
  const [old, next] = summaries(ob);
  t.equal(old!.seq, first.seq);
  t.same(old!.data, sent, 'the sent summary is left as it was sent');
  t.ok(next!.seq > first.seq, 'a new summary row');
  t.equal(next!.data.passes, 1);
  t.equal(next!.data.streamTotal, sent.streamTotal + next!.data.dropped, 'streamTotal counts every drop of the stream');
  t.equal(ob.stats().thinned, next!.data.streamTotal);
});

t.test('long outage: the size bound holds for every mix of messages, and every drop is counted', async (t) => {
  const { logger, lines } = memoryLogger();
  const maxBytes = 32 * 1024;
  const dir = tempDir(t);
  const ob = open(t, { maxBytes, logger }, dir);
  const file = join(dir, 'outbox.db');
  const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);
  const disk = { db: 0, wal: 0 };
  const cls = new Map<number, 'status' | 'info' | 'warning' | 'critical'>();
  const severities = ['info', 'warning', 'critical'] as const;
  let maxSeen = 0;
  const over: string[] = [];
  const step = (kind: 'status' | (typeof severities)[number], pad = 200) => {
    const r =
      kind === 'status'
        ? ob.append('status', statusBuild(SITE, 600))
        : ob.appendEvent(`test.${kind}`, kind, `${kind} ${'e'.repeat(pad)}`, { n: cls.size });
    cls.set(r.seq, kind);
    const bytes = ob.stats().pendingBytes;
    maxSeen = Math.max(maxSeen, bytes);
    if (bytes > maxBytes) over.push(`${bytes} bytes after seq ${r.seq} (${kind})`);
    disk.db = Math.max(disk.db, size(file));
    disk.wal = Math.max(disk.wal, size(`${file}-wal`));
  };
  // 1. samples every minute for hours, with an event now and then;
  for (let i = 0; i < 300; i++) {
    step('status');
    if (i % 20 === 0) step(severities[i % 3]!);
  }
  const afterSamples = new Set(ob.nextToSend(1_000_000, Date.now() + 86400_000).map((r) => r.seq));
  t.ok(
    [...cls].every(([seq, c]) => c === 'status' || afterSamples.has(seq)),
    'while status samples can be thinned, no event is dropped',
  );
  // 2. events only, arriving constantly (a flapping service), every severity;
  for (let i = 0; i < 900; i++) step(severities[i % 3]!);
  // 3. then only critical ones, larger;
  for (let i = 0; i < 200; i++) step('critical', 900);
  // 4. and samples again, beside them.
  for (let i = 0; i < 100; i++) {
    step('status');
    step('critical', 300);
  }
  t.same(over.slice(0, 3), [], `pending bytes never above maxBytes (max seen ${maxSeen} of ${maxBytes}; over it ${over.length} times)`);
  // The files follow the budget: the database holds rows, indexes and free pages (about 3x maxBytes
  // at this small size, 2x at 1 MiB); the WAL is checkpointed every 16 pages here and cut back to
  // 64 KiB, plus at most one thinning pass's pages (SQLite's default left it at about 4 MB).
  t.ok(disk.db <= 3 * maxBytes + 32 * 1024, `outbox.db stayed at most ${disk.db} bytes`);
  t.ok(disk.wal <= 160 * 1024, `outbox.db-wal stayed at most ${disk.wal} bytes`);
  const rows = ob.nextToSend(1_000_000, Date.now() + 86400_000);
  const sums = summaries(ob);
  t.equal(sums.length, 1, 'one thinning record for the whole outage');
  const summary = sums[0]!;
  const left = new Set(rows.map((r) => r.seq));
  const lost: Record<string, number> = { status: 0, info: 0, warning: 0, critical: 0 };
  for (const [seq, c] of cls) if (!left.has(seq)) lost[c]!++;
  t.same(summary.data.byClass, lost, 'the summary counts every dropped message by kind and severity');
  t.equal(ob.stats().thinned, Object.values(lost).reduce((a, b) => a + b, 0), 'the thinned counter too');
  t.equal(rows.length, cls.size + 1 - ob.stats().thinned, 'nothing left without being counted');
  t.equal(summary.severity, 'critical', 'critical events were lost: the summary says so at critical severity');
  t.ok(lost.critical! > 0 && lost.info! > 0 && lost.warning! > 0 && lost.status! > 0, 'the outage was long enough to reach every kind');
  const newest = [...cls.keys()].slice(-20);
  t.ok(
    newest.filter((s) => cls.get(s) === 'critical').every((s) => left.has(s)),
    'the newest critical events are kept',
  );
  const thinLines = lines.filter((l) => String(l.msg).startsWith('the outbox is at its limit'));
  t.equal(thinLines.length, 1, 'logged once, not per pass');
  t.notOk(
    lines.some((l) => String(l.msg).includes('nothing left to drop')),
    'never stuck over the limit',
  );
});
