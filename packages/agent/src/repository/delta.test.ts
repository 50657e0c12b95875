import t from 'tap';
import { randomBytes } from 'node:crypto';
import type { Tokenizer } from '../sources/source.js';
import { countCuts, tokenize, MAX_TOKEN, PAGE_SIZE, CHUNK_MAX } from './tokenizers.js';
import { encodeDelta, encodeDeltaBytes, type DeltaEncoderOptions } from './delta-encode.js';
import { applyDelta, applyDeltaBytes } from './delta-decode.js';

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

/** Yields `buf` in pieces of random sizes: token boundaries must not depend on how data arrives. */
async function* pieces(buf: Buffer, rnd: () => number, max = 10000): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; ) {
    const n = 1 + Math.floor(rnd() * max);
    yield buf.subarray(i, i + n);
    i += n;
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/**
 * Encodes b against a from tokens (encodeDelta) and from bytes (encodeDeltaBytes, what backups
 * use), decodes both; `out` is what the bytes encoder's delta restores, and `fromTokens` the other's.
 */
async function roundTrip(kind: Tokenizer, a: Buffer, b: Buffer, seed: number, opts?: DeltaEncoderOptions) {
  const rnd = prng(seed);
  const decode = async (ops: Buffer) => {
    const fromTokens = Buffer.concat((await collect(applyDelta(tokenize(kind, pieces(a, rnd)), pieces(ops, rnd, 3000)))).flat());
    // Restores apply deltas to bytes: the same output, whatever the pieces' sizes.
    const fromBytes = Buffer.concat(await collect(applyDeltaBytes(kind, pieces(a, rnd, 70000), pieces(ops, rnd, 3000))));
    if (!fromBytes.equals(fromTokens)) throw new Error(`${kind}: applying the delta to bytes and to tokens differ`);
    return fromBytes;
  };
  const tokenOps = Buffer.concat(await collect(encodeDelta(tokenize(kind, pieces(a, rnd)), tokenize(kind, pieces(b, rnd)), opts)));
  const ops = Buffer.concat(await collect(encodeDeltaBytes(kind, pieces(a, rnd, 300000), pieces(b, rnd), opts)));
  return { out: await decode(ops), ops, fromTokens: await decode(tokenOps), tokenOps };
}

function rows(n: number, rnd: () => number, from = 0): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`(${from + i},'patient ${Math.floor(rnd() * 1e9)}','2024-01-${10 + (i % 18)}',${(rnd() * 200).toFixed(1)}),\n`);
  return out;
}

/** Random edits: updates, inserts, deletes (some long), appends. */
function edit(lines: string[], rnd: () => number): string[] {
  const out = [...lines];
  for (let k = 0; k < 40; k++) {
    const at = Math.floor(rnd() * (out.length + 1));
    const r = rnd();
    if (r < 0.4 && out.length) out[Math.min(at, out.length - 1)] = `updated ${rnd()}\n`;
    else if (r < 0.6) out.splice(at, 0, ...rows(1 + Math.floor(rnd() * 30), rnd, 1e6));
    else if (r < 0.8) out.splice(at, Math.floor(rnd() * 20));
    else if (r < 0.85) out.splice(at, Math.floor(rnd() * 400));
    else out.push(...rows(5, rnd, 2e6));
  }
  return out;
}

t.test('tokenizers cut the same way however the input arrives', async (t) => {
  const data = Buffer.concat([Buffer.from(rows(500, prng(1)).join('')), randomBytes(50000), Buffer.from('no newline at the end')]);
  for (const kind of ['lines', 'pages', 'chunks'] as const) {
    const a = (await collect(tokenize(kind, pieces(data, prng(2), 7)))).flat();
    const b = (await collect(tokenize(kind, pieces(data, prng(3), 70000)))).flat();
    t.same(a.map((x) => x.length), b.map((x) => x.length), `${kind}: same cuts`);
    t.ok(Buffer.concat(a).equals(data), `${kind}: tokens concatenate to the input`);
    if (kind === 'pages') t.ok(a.slice(0, -1).every((x) => x.length === PAGE_SIZE));
    if (kind === 'chunks') {
      t.ok(a.every((x) => x.length <= CHUNK_MAX));
      t.ok(a.length > 10 && a.length < 200, `chunks average ~2 KiB (${a.length} chunks for ${data.length} bytes)`);
    }
  }
});

t.test('a line over 1 MiB is cut at 1 MiB and round-trips', async (t) => {
  const long = Buffer.alloc(MAX_TOKEN * 2 + 100, 'x');
  const a = Buffer.concat([Buffer.from('head\n'), long, Buffer.from('\ntail\n')]);
  const tokens = (await collect(tokenize('lines', pieces(a, prng(4), 300000)))).flat();
  t.same(tokens.map((x) => x.length), [5, MAX_TOKEN, MAX_TOKEN, 101, 5]);
  const b = Buffer.concat([Buffer.from('head\n'), long.subarray(0, MAX_TOKEN + 10), Buffer.from('Y'), long.subarray(MAX_TOKEN + 11), Buffer.from('\ntail2\n')]);
  const { out, fromTokens } = await roundTrip('lines', a, b, 5);
  t.ok(out.equals(b));
  t.ok(fromTokens.equals(b));
});

t.test('counting cuts agrees with cutting, for every tokenizer', async (t) => {
  const long = Buffer.alloc(MAX_TOKEN + 300, 'y');
  const data = Buffer.concat([Buffer.from(rows(300, prng(21)).join('')), long, Buffer.from('\n'), randomBytes(40000), Buffer.from('tail')]);
  for (const kind of ['lines', 'pages', 'chunks'] as const) {
    const tokens = (await collect(tokenize(kind, pieces(data, prng(22))))).flat();
    for (const limit of [0, 1, 100, 5000, 33333, MAX_TOKEN, data.length - 1000, data.length]) {
      // Tokens that end within the limit, the last one (which ends at the input's end) only when cut by content.
      let count = 0;
      let end = 0;
      for (const tok of tokens.slice(0, -1)) {
        if (end + tok.length > limit) break;
        count++;
        end += tok.length;
      }
      t.same(countCuts(kind, data, limit), { count, end }, `${kind}, limit ${limit}`);
    }
  }
});

t.test('every tokenizer round-trips random edits through the delta', async (t) => {
  for (const kind of ['lines', 'pages', 'chunks'] as const) {
    for (let seed = 1; seed <= 6; seed++) {
      const rnd = prng(seed * 7 + kind.length);
      const base = rows(3000, rnd);
      const next = edit(base, rnd);
      const a = Buffer.from(base.join(''));
      const b = Buffer.from(next.join(''));
      // Small windows on some seeds exercise resyncs past the lookahead and long deletions.
      const opts = seed % 2 ? { baseWindowTokens: 64, newWindowTokens: 16 } : undefined;
      const { out, fromTokens, ops, tokenOps } = await roundTrip(kind, a, b, seed, opts);
      t.ok(out.equals(b), `${kind} seed ${seed}${opts ? ' (small windows)' : ''}`);
      t.ok(fromTokens.equals(b), `${kind} seed ${seed}: from tokens too`);
      // Comparing bytes where the versions agree finds the same changes as comparing tokens.
      t.ok(ops.length <= tokenOps.length * 1.1 + 64, `${kind} seed ${seed}: delta from bytes ${ops.length} bytes, from tokens ${tokenOps.length}`);
    }
  }
});

t.test('empty inputs, identical inputs, binary data', async (t) => {
  const bin = randomBytes(200000);
  const bin2 = Buffer.concat([bin.subarray(0, 70000), randomBytes(3000), bin.subarray(90000)]);
  const cases: Array<[string, Buffer, Buffer]> = [
    ['both empty', Buffer.alloc(0), Buffer.alloc(0)],
    ['empty base', Buffer.alloc(0), Buffer.from('a\nb\n')],
    ['empty new', Buffer.from('a\nb\n'), Buffer.alloc(0)],
    ['identical', bin, bin],
    ['binary edit', bin, bin2],
  ];
  for (const kind of ['lines', 'pages', 'chunks'] as const) {
    for (const [name, a, b] of cases) {
      const { out, ops } = await roundTrip(kind, a, b, 9);
      t.ok(out.equals(b), `${kind}: ${name}`);
      if (name === 'identical') t.ok(ops.length < 16, `${kind}: identical content costs a few bytes (${ops.length})`);
    }
  }
  // Chunks resynchronise after a change in the middle of binary data: the delta is about the change.
  const { ops } = await roundTrip('chunks', bin, bin2, 10);
  t.ok(ops.length < 40000, `binary edit delta ${ops.length} bytes for a 23 KB change`);
});

t.test('a truncated or garbled op stream is refused', async (t) => {
  const a = Buffer.from(rows(100, prng(11)).join(''));
  const b = Buffer.from(edit(rows(100, prng(11)), prng(12)).join(''));
  const { ops } = await roundTrip('lines', a, b, 13);
  await t.rejects(collect(applyDelta(tokenize('lines', pieces(a, prng(1))), pieces(ops.subarray(0, ops.length - 1), prng(2)))), /truncated/);
  const bad = Buffer.from(ops);
  bad[0] = 0x5a;
  await t.rejects(collect(applyDelta(tokenize('lines', pieces(a, prng(1))), pieces(bad, prng(2)))), /unknown operation/);
  await t.rejects(collect(applyDeltaBytes('lines', pieces(a, prng(1)), pieces(ops.subarray(0, ops.length - 1), prng(2)))), /truncated/);
  await t.rejects(collect(applyDeltaBytes('lines', pieces(a, prng(1)), pieces(bad, prng(2)))), /unknown operation/);
  // A copy past the base's end.
  const past = Buffer.from([0x43, 200, 1, 0x45]);
  await t.rejects(collect(applyDeltaBytes('lines', pieces(a, prng(1)), pieces(past, prng(2)))), /past the end of its base/);
  await t.rejects(collect(applyDelta(tokenize('lines', pieces(a, prng(1))), pieces(past, prng(2)))), /past the end of its base/);
});
