import t from 'tap';
import { decodeRelayBatch } from './relay.js';
import { decodeSyncUp } from './sync.js';
import { decodeUp, encodeUp } from './codec.js';
import { depthProblem, jsonDepth, MAX_JSON_DEPTH } from './json-depth.js';
import { status } from './samples.test-support.js';
import { upTopic } from './topics.js';

/** The reference: depth of a parsed value, counted by walking it. */
function valueDepth(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + children.reduce<number>((m, c) => Math.max(m, valueDepth(c)), 0);
}

/** A small deterministic generator, so that a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Strings full of what could fool a scan: brackets, quotes, escapes, non-ASCII. */
const TRICKY = ['[', ']', '{', '}', '"', '\\', '\\"', '\\\\', 'ã', '€', '😀', 'a', ' ', '\n', '\u0000'];

function randomValue(r: () => number, depth: number): unknown {
  const pick = r();
  if (depth <= 0 || pick < 0.3) {
    if (pick < 0.1) return Math.round(r() * 1e6) / 100;
    if (pick < 0.15) return r() < 0.5 ? null : true;
    return Array.from({ length: Math.floor(r() * 6) }, () => TRICKY[Math.floor(r() * TRICKY.length)]).join('');
  }
  const n = Math.floor(r() * 4);
  if (pick < 0.65) return Array.from({ length: n }, () => randomValue(r, depth - 1));
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${TRICKY[Math.floor(r() * TRICKY.length)]}${i}`, randomValue(r, depth - 1)]));
}

t.test('fuzz: on valid JSON the scan agrees with the parsed value, as text and as UTF-8 bytes', async (t) => {
  let checked = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const r = rng(seed);
    const text = JSON.stringify(randomValue(r, Math.floor(r() * 12)), null, r() < 0.2 ? 1 : undefined);
    const want = valueDepth(JSON.parse(text));
    if (jsonDepth(text) !== want || jsonDepth(Buffer.from(text, 'utf8')) !== want) {
      t.fail(`seed ${seed}: ${text.slice(0, 300)}: scan ${jsonDepth(text)} / ${jsonDepth(Buffer.from(text, 'utf8'))}, parsed ${want}`);
      return;
    }
    checked++;
  }
  t.equal(checked, 3000);
});

t.test('fuzz: any bytes give an answer, never a throw, and never more than the brackets allow', async (t) => {
  const alphabet = Buffer.from('[]{}"\\,:a1 \xff\x00');
  for (let seed = 1; seed <= 3000; seed++) {
    const r = rng(seed);
    const bytes = Buffer.from(Array.from({ length: Math.floor(r() * 200) }, () => alphabet[Math.floor(r() * alphabet.length)]!));
    const d = jsonDepth(bytes);
    const opens = bytes.filter((b) => b === 0x5b || b === 0x7b).length;
    if (!(Number.isInteger(d) && d >= 0 && d <= opens)) {
      t.fail(`seed ${seed}: depth ${d} for ${bytes.toString('hex')}`);
      return;
    }
  }
  t.pass('3000 random byte strings');
});

t.test('the limit: the issue 18 payload and one level past the limit are refused by every decoder, with the depth', async (t) => {
  const nest = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
  t.equal(depthProblem(nest(MAX_JSON_DEPTH)), null, 'the limit itself is allowed');
  t.equal(depthProblem(nest(MAX_JSON_DEPTH + 1)), `JSON nests ${MAX_JSON_DEPTH + 1} levels deep; the limit is ${MAX_JSON_DEPTH}`);
  // A schema-valid status dated 2099 carrying 60,000 levels in a field the schema does not know (120 KB).
  const attack = Buffer.from(JSON.stringify({ ...status, ts: '2099-01-01T00:00:00.000Z' }).replace(/}$/, `,"x":${nest(60_000)}}`));
  t.ok(attack.length < 256 * 1024, 'under the payload limit');
  for (const d of [decodeUp(upTopic('hf-1', 'status'), attack)]) {
    t.notOk(d.ok);
    if (!d.ok) {
      t.equal(d.error.code, 'too-deep');
      t.equal(d.error.message, `payload refused: JSON nests 60001 levels deep; the limit is ${MAX_JSON_DEPTH}`);
    }
  }
  const within = Buffer.from(JSON.stringify({ ...status, x: JSON.parse(nest(MAX_JSON_DEPTH - 1)) }));
  t.ok(decodeUp(upTopic('hf-1', 'status'), within).ok, 'a status nesting exactly to the limit is taken');
  t.throws(() => encodeUp({ ...status, x: JSON.parse(nest(MAX_JSON_DEPTH)) } as never), /JSON nests 65 levels deep/, 'and no program sends what its peer would refuse');
  const relay = decodeRelayBatch(Buffer.from(`{"v":1,"type":"batch","relay":"dps-1","province":"p","items":[],"x":${nest(100)}}`));
  t.match(relay, { ok: false, error: /JSON nests 101 levels deep/ });
  const sync = decodeSyncUp('sentinela/v1/site/hf-1/up/sync/offer', Buffer.from(`{"x":${nest(100)}}`), 1 << 20);
  t.match(sync, { ok: false, error: { code: 'too-deep' } });
});
