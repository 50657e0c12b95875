import t from 'tap';
import { randomBytes } from 'node:crypto';
import { BaseAnchors } from './base-anchors.js';
import { anchorHash, HASHED, isRun, nextAnchor } from './gear-anchors.js';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

/** The anchors of `buf` found in one pass on this thread, as the encoder found them before the worker: [hash, position of the last hashed byte]. */
function direct(buf: Buffer): Array<[number, number]> {
  const own = Buffer.allocUnsafeSlow(buf.length); // word-aligned, as nextAnchor needs
  buf.copy(own);
  const words = new Int32Array(own.buffer, own.byteOffset, own.length >> 2);
  const out: Array<[number, number]> = [];
  let h = 0;
  for (let r = 0; r < own.length; r++) {
    r = nextAnchor(own, words, r, own.length, h);
    h = anchorHash();
    if (r >= own.length) break;
    if (r >= HASHED - 1 && !isRun(own, r)) out.push([h, r]);
  }
  return out;
}

/** Random bytes with runs of one byte (which anchor everywhere and must be left out) and repeated blocks. */
function content(rnd: () => number, n: number): Buffer {
  const buf = randomBytes(n);
  for (let k = Math.floor(rnd() * 20); k > 0; k--) {
    const at = Math.floor(rnd() * n);
    buf.fill(Math.floor(rnd() * 256), at, Math.min(n, at + Math.floor(rnd() * 5000)));
  }
  for (let k = Math.floor(rnd() * 10); k > 0; k--) {
    const from = Math.floor(rnd() * n);
    const len = Math.floor(rnd() * 20000);
    buf.copy(buf, Math.floor(rnd() * n), from, Math.min(n, from + len));
  }
  return buf;
}

/** Where two anchor lists first differ (-1: equal): t.same on 100,000 pairs takes minutes. */
function firstDifference(a: Array<[number, number]>, b: Array<[number, number]>): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i]?.[0] !== b[i]?.[0] || a[i]?.[1] !== b[i]?.[1]) return i;
  return -1;
}

async function* pieces(buf: Buffer, rnd: () => number, max: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; ) {
    const n = 1 + Math.floor(rnd() * max);
    yield buf.subarray(i, i + n);
    i += n;
  }
}

t.test('the worker finds the anchors one pass finds, whatever the pieces the base comes in, and any range of them (fuzz)', async (t) => {
  const rnd = prng(11);
  for (let round = 0; round < 12; round++) {
    // Sizes across the worker's 1 MiB pieces and its 8-piece ring (the reader then waits for answers).
    const big = round >= 8; // beyond the worker's ring of 8 MiB: the reader waits for answers
    const n = round === 0 ? 0 : round === 1 ? 31 : big ? 9 * 1024 * 1024 + Math.floor(rnd() * 3 * 1024 * 1024) : Math.floor(rnd() * 300_000);
    const buf = content(rnd, n);
    const want = direct(buf);
    const a = new BaseAnchors(pieces(buf, rnd, round % 2 ? (big ? 20_000 : 100) : 3 * 1024 * 1024));
    let seen = 0;
    for await (const c of a.bytes()) seen += c.length;
    await a.until(n);
    t.ok(a.has(n), `round ${round}: all ${n} bytes answered`);
    const got: Array<[number, number]> = [];
    a.forEach(0, n, (h, r) => got.push([h, r]));
    t.equal(seen, n, `round ${round}: the bytes pass through unchanged in length`);
    t.equal(firstDifference(got, want), -1, `round ${round}: the ${want.length} anchors in ${n} bytes`);
    // A range, after forgetting what lies before it.
    const from = Math.floor(rnd() * n);
    const to = from + Math.floor(rnd() * (n - from));
    a.forget(from);
    const part: Array<[number, number]> = [];
    a.forEach(from, to, (h, r) => part.push([h, r]));
    t.equal(firstDifference(part, want.filter(([, r]) => r >= from && r < to)), -1, `round ${round}: the anchors in [${from}, ${to})`);
    await a.close();
  }
});

t.test('a base that fails while read fails the reader, and the worker is stopped', async (t) => {
  async function* failing(): AsyncGenerator<Buffer> {
    yield randomBytes(3 * 1024 * 1024);
    throw new Error('object 4 fails authentication');
  }
  const a = new BaseAnchors(failing());
  await t.rejects(
    (async () => {
      for await (const _ of a.bytes()) void _;
    })(),
    /fails authentication/,
  );
  // Stopped: closing again is harmless and does not hang.
  await a.close();
});

t.test('a reader that stops early stops the worker', async (t) => {
  const a = new BaseAnchors(pieces(randomBytes(4 * 1024 * 1024), prng(3), 500_000));
  for await (const c of a.bytes()) {
    t.ok(c.length > 0, 'one piece read');
    break;
  }
  await a.close();
});
