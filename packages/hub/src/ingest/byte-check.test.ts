import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { z } from 'zod';
import { decodeUp, EventMessage, MAX_JSON_DEPTH, MAX_SEQ, StatusMessage, upTopic } from '@sentinela/shared';
import { event, mutations, status } from '@sentinela/shared/test-support/samples';
import { compileByteScan, type ByteScan } from './byte-check.js';
import { decodeUpHead } from './decode-head.js';

const HEAD = ['site', 'stream', 'seq', 'ts'] as const;
const KINDS = [
  ['status', StatusMessage, status],
  ['event', EventMessage, event],
] as const;
const scans = new Map<string, ByteScan>(KINDS.map(([kind, schema]) => [kind, compileByteScan(schema, HEAD)!]));

/** The full decode's verdict on a text: the value when zod accepts it unchanged, else null. */
function fullVerdict(schema: z.ZodType, text: string): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const r = schema.safeParse(value);
  return r.success && isDeepStrictEqual(r.data, value) ? (value as Record<string, unknown>) : null;
}

/** Scans `bytes`; a proof must agree with the full decode, head included. Returns whether it was proven. */
function proves(t: Pick<typeof import('tap').default, 'fail'>, kind: string, schema: z.ZodType, bytes: Buffer): boolean {
  const out: Array<string | number> = [];
  if (!scans.get(kind)!(bytes, out)) return false;
  const v = fullVerdict(schema, bytes.toString('utf8'));
  if (v === null) t.fail(`${kind}: proved what the full decode refuses: ${bytes.toString('latin1').slice(0, 400)}`);
  else if (!isDeepStrictEqual(out, HEAD.map((k) => v[k]))) t.fail(`${kind}: head ${JSON.stringify(out)} differs from the decoded ${JSON.stringify(HEAD.map((k) => v[k]))}`);
  return true;
}

t.test('the status and event schemas compile, and what agents send is proven, head and all', async (t) => {
  for (const [kind, schema, sample] of KINDS) {
    t.ok(scans.get(kind), `${kind} compiles`);
    for (const [how, text] of [
      ['compact', JSON.stringify(sample)],
      ['indented', JSON.stringify(sample, null, 2)],
      ['with CRLF and tabs', JSON.stringify(sample, null, '\t').replace(/\n/g, '\r\n')],
    ]) {
      t.ok(proves(t, kind, schema, Buffer.from(text!)), `${kind}, ${how}: proven`);
    }
  }
  const out: Array<string | number> = [];
  scans.get('status')!(Buffer.from(JSON.stringify(status)), out);
  t.same(out, ['hf-1', 'stream-abc', 7, '2026-11-24T10:00:00.000Z'], 'the head: site, stream, seq, time');
});

t.test('nothing the full decode refuses or changes is proven: every field spoiled in turn', async (t) => {
  for (const [kind, schema, sample] of KINDS) {
    let tried = 0;
    let proven = 0;
    let valid = 0;
    for (const value of mutations(sample)) {
      const text = JSON.stringify(value);
      if (text === undefined) continue;
      tried++;
      if (fullVerdict(schema, text)) valid++;
      if (proves(t, kind, schema, Buffer.from(text))) proven++;
    }
    t.ok(proven > 0 && proven <= valid, `${kind}: ${tried} variants, ${valid} valid, ${proven} proven (each checked against the full decode)`);
  }
});

t.test('nothing the full decode refuses is proven: every byte deleted, doubled or replaced in turn', async (t) => {
  const replacements = [...'"\\0 9-.e,:{}[]xnt', '\u0000', '\u001f'].map((c) => c.charCodeAt(0)).concat([0x80, 0xc3, 0xff]);
  for (const [kind, schema, sample] of KINDS) {
    const bytes = Buffer.from(JSON.stringify(sample));
    let tried = 0;
    let proven = 0;
    const variant = (b: Buffer) => {
      tried++;
      if (proves(t, kind, schema, b)) proven++;
    };
    for (let i = 0; i < bytes.length; i++) {
      variant(Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]));
      variant(Buffer.concat([bytes.subarray(0, i + 1), bytes.subarray(i)]));
      for (const r of replacements) {
        const copy = Buffer.from(bytes);
        copy[i] = r;
        variant(copy);
      }
    }
    t.ok(proven > 0, `${kind}: ${tried} byte variants, ${proven} still proven, each checked against the full decode`);
  }
});

t.test('what the test does not prove goes through the full decode, with the same result', async (t) => {
  const text = JSON.stringify(status);
  const cases: Array<[string, string]> = [
    ['a repeated key', text.replace('"seq":7,', '"seq":7,"seq":8,')],
    ['an escaped key', text.replace('"seq"', '"\\u0073eq"')],
    ['a __proto__ key', text.replace('"extra"', '"__proto__"')],
    ['a non-ASCII hostname', text.replace('hf-1-server', 'Centro de Saúde de Boane')],
    ['an escape in a checked string', text.replace('stream-abc', 'stream\\u002dabc')],
    ['a number with an exponent', text.replace('"uptimeSec":86400', '"uptimeSec":8.64e4')],
    ['an integer of 16 digits', text.replace('"sizeBytes":240000000000', '"sizeBytes":2400000000000000')],
    ['a bound its integer part does not settle', text.replace('"usagePct":12.5', '"usagePct":-0.5')],
    ['deep nesting under an unknown key', text.replace('{"fromANewerAgent":true}', `${'['.repeat(100)}${']'.repeat(100)}`)],
  ];
  const topic = upTopic('hf-1', 'status');
  for (const [what, payload] of cases) {
    const bytes = Buffer.from(payload);
    t.notOk(scans.get('status')!(bytes, []), `${what}: not proven`);
    const head = decodeUpHead(topic, bytes);
    const full = decodeUp(topic, bytes);
    t.same(head, full, `${what}: decodeUpHead gives decodeUp's result (${full.ok ? 'accepted' : full.error.code})`);
  }
  const otherSite = Buffer.from(text.replace('"site":"hf-1"', '"site":"hf-2"'));
  const wrongSite = decodeUpHead(topic, otherSite);
  t.ok(!wrongSite.ok && wrongSite.error.code === 'wrong-site', 'another site in the payload: proven valid, but refused as wrong-site, as by decodeUp');
  const seqWithFraction = Buffer.from(text.replace('"seq":7,', '"seq":7.0,'));
  const r = decodeUpHead(topic, seqWithFraction);
  t.ok(r.ok && r.text === null && r.message.seq === 7, '7.0 is the integer 7 for JSON.parse, and proven so');
  const deep = Buffer.from(text.replace('{"fromANewerAgent":true}', `${'['.repeat(100_000)}${']'.repeat(100_000)}`));
  t.doesNotThrow(() => decodeUpHead(topic, deep, 1024 * 1024), 'nesting 100,000 deep: no stack overflow');
});

t.test('decodeUpHead: a status or event as its head, anything else as decodeUp decodes it', async (t) => {
  const s = decodeUpHead(upTopic('hf-1', 'status'), Buffer.from(JSON.stringify(status)));
  t.same(s, { ok: true, topic: { direction: 'up', siteId: 'hf-1', kind: 'status' }, message: { v: 1, type: 'status', site: 'hf-1', stream: 'stream-abc', seq: 7, ts: '2026-11-24T10:00:00.000Z' }, text: null });
  const e = decodeUpHead(upTopic('hf-1', 'event'), Buffer.from(JSON.stringify(event)));
  t.ok(e.ok && e.text === null && e.message.type === 'event' && e.message.ts === event.ts, 'an event: its head, its time as sent');
  const onEventTopic = decodeUpHead(upTopic('hf-1', 'event'), Buffer.from(JSON.stringify(status)));
  t.ok(!onEventTopic.ok && onEventTopic.error.code === 'wrong-type', 'a status on the event topic: wrong-type, as from decodeUp');
  const tooLarge = decodeUpHead(upTopic('hf-1', 'status'), Buffer.from(JSON.stringify(status)), 100);
  t.ok(!tooLarge.ok && tooLarge.error.code === 'too-large', 'over the size limit: too-large');
  const death = Buffer.from(JSON.stringify({ v: 1, type: 'death', site: 'hf-1', bdSeq: 0, clean: false }));
  t.same(decodeUpHead(upTopic('hf-1', 'death'), death), decodeUp(upTopic('hf-1', 'death'), death), 'a death: decoded whole');
});

t.test('schemas with parts it does not compile get no byte test', async (t) => {
  t.equal(compileByteScan(z.object({ a: z.string().transform((s) => s.length) })), null, 'a transform');
  t.equal(compileByteScan(z.looseObject({ a: z.string().refine((s) => s !== 'x') })), null, 'a refine');
  t.equal(compileByteScan(z.looseObject({ a: z.url() })), null, 'a format that is more than a pattern');
  t.equal(compileByteScan(z.looseObject({ a: z.string().optional() }), ['a']), null, 'an optional key to capture');
  const strict = compileByteScan(z.object({ a: z.string() }))!;
  t.ok(strict(Buffer.from('{"a":"x"}'), []), 'a stripping object without extra keys');
  t.notOk(strict(Buffer.from('{"a":"x","b":1}'), []), 'a stripping object with an extra key is not proven (zod would drop the key)');
});

t.test('decodeUpHead refuses what decodeUp refuses: seq above 2^40, nesting past the limit (moved from the shared codec tests)', async (t) => {
  const topic = upTopic('hf-1', 'status');
  for (const seq of [2 ** 53 - 1, MAX_SEQ + 1]) {
    const d = decodeUpHead(topic, Buffer.from(JSON.stringify({ ...status, seq })));
    t.notOk(d.ok, `seq ${seq} refused`);
    if (!d.ok) t.match(d.error.message, /^seq: /);
  }
  t.match(decodeUpHead(topic, Buffer.from(JSON.stringify({ ...status, seq: MAX_SEQ }))), { ok: true, message: { seq: MAX_SEQ } }, '2^40 itself is taken');
  const nest = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
  const attack = Buffer.from(JSON.stringify({ ...status, ts: '2099-01-01T00:00:00.000Z' }).replace(/}$/, `,"x":${nest(60_000)}}`));
  const d = decodeUpHead(topic, attack);
  t.notOk(d.ok);
  if (!d.ok) t.equal(d.error.message, `payload refused: JSON nests 60001 levels deep; the limit is ${MAX_JSON_DEPTH}`);
});
