import t from 'tap';
import { decodeDown, decodeUp, encodeUp, expandRanges, toRanges } from './codec.js';
import { hasWildcard, parseTopic, topicBelongsToSite, upTopic, downTopic } from './topics.js';
import { MAX_SEQ, type EventMessage } from './messages.js';
import * as sample from './samples.test-support.js';

const event = (over: Partial<EventMessage> = {}): EventMessage => ({
  v: 1,
  type: 'event',
  site: 'hf-1',
  stream: 'stream-abc',
  seq: 7,
  ts: '2026-11-24T10:00:00.000Z',
  code: 'service.down',
  severity: 'warning',
  message: 'Database service is not answering',
  ...over,
});

t.test('an encoded event decodes to the same message', async (t) => {
  const r = decodeUp(upTopic('hf-1', 'event'), encodeUp(event()));
  t.ok(r.ok);
  if (r.ok) t.same(r.message, event());
});

t.test('decode errors name the reason and the field', async (t) => {
  const topic = upTopic('hf-1', 'event');
  const cases: Array<[string, Uint8Array, string, RegExp]> = [
    ['not json', Buffer.from('{oops'), 'not-json', /not JSON/],
    ['bad seq', Buffer.from(JSON.stringify({ ...event(), seq: -3 })), 'invalid', /seq: .*found number -3/],
    ['missing code', Buffer.from(JSON.stringify({ ...event(), code: undefined })), 'invalid', /code: required key is missing/],
    ['other site', Buffer.from(JSON.stringify(event({ site: 'hf-2' }))), 'wrong-site', /names site "hf-2" but the topic is for site "hf-1"/],
  ];
  for (const [name, payload, code, text] of cases) {
    const r = decodeUp(topic, payload);
    t.notOk(r.ok, name);
    if (!r.ok) {
      t.equal(r.error.code, code, `${name}: code`);
      t.match(r.error.message, text, `${name}: message`);
    }
  }
  const wrongType = decodeUp(upTopic('hf-1', 'status'), encodeUp(event()));
  t.equal(!wrongType.ok && wrongType.error.code, 'wrong-type');
  const big = decodeUp(topic, Buffer.alloc(300_000, 0x20), 256 * 1024);
  t.equal(!big.ok && big.error.code, 'too-large');
  t.match(!big.ok && big.error.message, /300000 bytes exceeds the limit of 262144/);
  const badTopic = decodeUp('sentinela/v1/site/HF_1/up/event', encodeUp(event()));
  t.equal(!badTopic.ok && badTopic.error.code, 'bad-topic');
});

t.test('encode refuses a message the peer would refuse', async (t) => {
  t.throws(() => encodeUp(event({ severity: 'fatal' as never })));
});

t.test('ack ranges round-trip and decode', async (t) => {
  const seqs = [5, 1, 2, 3, 9, 10, 3];
  const ranges = toRanges(seqs);
  t.same(ranges, [[1, 3], [5, 5], [9, 10]]);
  t.same([...expandRanges(ranges)], [1, 2, 3, 5, 9, 10]);
  const ack = { v: 1, type: 'ack', site: 'hf-1', stream: 'stream-abc', acked: ranges, rejected: [] };
  t.ok(decodeDown(downTopic('hf-1', 'ack'), Buffer.from(JSON.stringify(ack))).ok);
  const bad = decodeDown(downTopic('hf-1', 'ack'), Buffer.from(JSON.stringify({ ...ack, acked: [[4, 2]] })));
  t.notOk(bad.ok);
});

t.test('topics: parse and per-site ownership', async (t) => {
  t.same(parseTopic('sentinela/v1/site/hf-1/up/status'), { direction: 'up', siteId: 'hf-1', kind: 'status' });
  t.equal(parseTopic('sentinela/v1/site/hf-1/up/nope'), null);
  t.equal(parseTopic('sentinela/v2/site/hf-1/up/status'), null);
  t.ok(topicBelongsToSite('sentinela/v1/site/hf-1/up/event', 'hf-1', 'up'));
  t.ok(topicBelongsToSite('sentinela/v1/site/hf-1/down/#', 'hf-1', 'down'));
  t.notOk(topicBelongsToSite('sentinela/v1/site/hf-2/up/event', 'hf-1', 'up'));
  t.notOk(topicBelongsToSite('sentinela/v1/site/+/down/#', 'hf-1', 'down'));
  t.notOk(topicBelongsToSite('sentinela/v1/site/hf-1/down/#', 'hf-1', 'up'));
  t.notOk(topicBelongsToSite('#', 'hf-1', 'down'));
  for (const filter of ['#', 'a/+', 'sentinela/v1/site/hf-1/up/status#', 'x+y']) t.ok(hasWildcard(filter), `${filter} is a filter`);
  t.notOk(hasWildcard('sentinela/v1/site/hf-1/up/status'));
});

t.test('seq is bounded: above 2^40 a status is refused (issue 18 item 3; the hub\'s byte-level test: hub ingest/byte-check.test.ts)', async (t) => {
  for (const seq of [2 ** 53 - 1, MAX_SEQ + 1]) {
    const payload = Buffer.from(JSON.stringify({ ...sample.status, seq }));
    for (const d of [decodeUp(upTopic('hf-1', 'status'), payload)]) {
      t.notOk(d.ok, `seq ${seq} refused`);
      if (!d.ok) t.match(d.error.message, /^seq: /);
    }
  }
  const top = decodeUp(upTopic('hf-1', 'status'), Buffer.from(JSON.stringify({ ...sample.status, seq: MAX_SEQ })));
  t.match(top, { ok: true, message: { seq: MAX_SEQ } }, '2^40 itself is taken');
});
