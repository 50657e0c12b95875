import t from 'tap';
import { randomBytes } from 'node:crypto';
import { brotliCompressSync, constants } from 'node:zlib';
import { DELTA_HISTORY, DELTA_QUALITY } from './backup.js';
import { encodeByteDelta, type ByteDeltaOptions } from './byte-delta-encode.js';
import { applyByteDelta } from './byte-delta-decode.js';
import { OpReader, type Op } from './op-stream.js';
import { RepositoryError } from './errors.js';
import { encodeDeltaBytes } from './delta-encode.js';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}
/** `buf` in pieces of random sizes: the delta must not depend on how data arrives. */
async function* pieces(buf: Buffer, rnd: () => number, max = 70000): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; ) {
    const n = 1 + Math.floor(rnd() * max);
    yield buf.subarray(i, i + n);
    i += n;
  }
}
async function concat(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const b of it) out.push(b);
  return Buffer.concat(out);
}
/** Encodes b against a, applies it back; returns the delta's size compressed as a snapshot stores it. */
async function roundTrip(t: { ok(v: boolean, m: string): void }, a: Buffer, b: Buffer, seed: number, opts: ByteDeltaOptions = {}): Promise<number> {
  const rnd = prng(seed);
  const used = { reach: 0 };
  const ops = await concat(encodeByteDelta(pieces(a, rnd), pieces(b, rnd), { history: DELTA_HISTORY, ...opts, used }));
  t.ok(used.reach <= (opts.history ?? DELTA_HISTORY), `copies back reach ${used.reach} bytes, within the history`);
  const out = await concat(applyByteDelta(pieces(a, rnd), pieces(ops, rnd, 3000), used.reach));
  t.ok(out.equals(b), `restores exactly (${b.length} bytes)`);
  return packed(ops);
}
const packed = (b: Buffer) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: DELTA_QUALITY } }).length;

/** mysqldump's default shape: INSERT statements of many rows a line, cut by length. */
function extendedInserts(rows: string[]): Buffer {
  const lines: string[] = [];
  let line: string[] = [];
  let len = 0;
  for (const r of rows) {
    if (len + r.length > 16384 && line.length) (lines.push(`INSERT INTO \`obs\` VALUES ${line.join(',')};\n`), (line = []), (len = 0));
    line.push(r);
    len += r.length + 1;
  }
  if (line.length) lines.push(`INSERT INTO \`obs\` VALUES ${line.join(',')};\n`);
  return Buffer.from(lines.join(''));
}

t.test('mysqldump with extended INSERTs: day 2 costs what changed, though every line after a grown row is cut elsewhere', async (t) => {
  const rnd = prng(3);
  const rows = Array.from({ length: 40000 }, (_, i) => `(${i},${Math.floor(rnd() * 5e4)},'LOINC-${Math.floor(rnd() * 9000)}',${(rnd() * 300).toFixed(2)})`);
  const day1 = extendedInserts(rows);
  const changed = [...rows];
  for (let k = 0; k < 20; k++) {
    const i = Math.floor(rnd() * rows.length); // 0.05 % updated, some longer
    changed[i] = changed[i]!.replace(/\)$/, ` /* revisto ${k} */)`);
  }
  for (let i = 40000; i < 40200; i++) changed.push(`(${i},${Math.floor(rnd() * 5e4)},'LOINC-${Math.floor(rnd() * 9000)}',${(rnd() * 300).toFixed(2)})`);
  const day2 = extendedInserts(changed);
  const appended = packed(Buffer.from(changed.slice(40000).join(',')));
  const size = await roundTrip(t, day1, day2, 1);
  const rnd2 = prng(1);
  const format1 = packed(await concat(encodeDeltaBytes('chunks', pieces(day1, rnd2), pieces(day2, rnd2))));
  t.ok(size < appended + 2500, `delta ${size} bytes; the appended rows alone compress to ${appended}`);
  t.ok(size * 3 < format1, `format 1 with its default tokenizer stored ${format1} bytes`);
});

t.test('a binary file with scattered byte changes and 1 MiB inserted in the middle', async (t) => {
  const day1 = randomBytes(6 << 20);
  const day2 = Buffer.from(day1);
  const rnd = prng(9);
  const n = Math.round(day1.length * 0.0005);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rnd() * day2.length);
    day2[at] = day2[at]! ^ (1 + Math.floor(rnd() * 255));
  }
  const mid = day2.length >> 1;
  const inserted = randomBytes(1 << 20);
  const size = await roundTrip(t, day1, Buffer.concat([day2.subarray(0, mid), inserted, day2.subarray(mid)]), 2);
  t.ok(size < inserted.length + n * 12, `delta ${size} bytes for 1 MiB inserted and ${n} bytes changed`);
});

t.test('deletions, moved blocks, runs of one byte, empty and identical inputs', async (t) => {
  const a = randomBytes(3 << 20);
  // A 1 MiB deletion, then a block moved from the end to the front.
  const cut = Buffer.concat([a.subarray(0, 500_000), a.subarray(1_548_576)]);
  t.ok((await roundTrip(t, a, cut, 3)) < 2000, 'a deletion is a skip');
  const moved = Buffer.concat([a.subarray(3_000_000), a.subarray(0, 3_000_000)]);
  await roundTrip(t, a, moved, 4);
  const zeros = Buffer.alloc(2 << 20);
  const zeros2 = Buffer.from(zeros);
  zeros2.fill(1, 100_000, 100_010);
  t.ok((await roundTrip(t, zeros, zeros2, 5)) < 200, 'runs of one byte');
  await roundTrip(t, Buffer.alloc(0), a.subarray(0, 1000), 6);
  await roundTrip(t, a.subarray(0, 1000), Buffer.alloc(0), 7);
  await roundTrip(t, Buffer.alloc(0), Buffer.alloc(0), 8);
  t.ok((await roundTrip(t, a, a, 9)) < 50, 'identical inputs cost a copy');
  // A deletion longer than the window is still restored exactly (inserted rather than found).
  await roundTrip(t, a, Buffer.concat([a.subarray(0, 10), a.subarray(2 << 20)]), 10, { window: 1 << 20 });
});

/** A mongodump --archive-like file: collections' documents in 16 KiB segments, interleaved by how much each has written. */
function interleaved(collections: Buffer[][]): Buffer {
  const state = collections.map((docs, c) => ({ c, docs, next: 0, written: 0 }));
  const out: Buffer[] = [];
  for (;;) {
    const live = state.filter((s) => s.next < s.docs.length);
    if (!live.length) break;
    const s = live.reduce((a, b) => (b.written < a.written ? b : a));
    out.push(Buffer.from(`<segment ${s.c}>`));
    let n = 0;
    while (s.next < s.docs.length && n < 16384) n += (out.push(s.docs[s.next++]!), s.docs[s.next - 1]!.length);
    s.written += n;
  }
  return Buffer.concat(out);
}

t.test('an archive whose collections interleave in another order on day 2: content that moved back is copied, not inserted again', async (t) => {
  const rnd = prng(12);
  const doc = (c: number, i: number) => Buffer.from(`{"_id":${i},"c":${c},"p":${Math.floor(rnd() * 5e4)},"v":"${rnd().toString(36).slice(2)}","t":${(rnd() * 300).toFixed(2)}}`);
  const day1 = [0, 1, 2].map((c) => Array.from({ length: [30000, 12000, 4000][c]! }, (_, i) => doc(c, i)));
  const day2 = day1.map((docs) => [...docs]);
  let changed = 0;
  for (const docs of day2) {
    for (let k = Math.round(docs.length * 0.0005); k > 0; k--) {
      const i = Math.floor(rnd() * docs.length); // 0.05 % updated, longer: every segment after them is cut elsewhere
      docs[i] = Buffer.concat([docs[i]!.subarray(0, -1), Buffer.from(',"revisto":true}')]);
      changed += 32;
    }
    for (let k = Math.round(docs.length * 0.005); k > 0; k--) changed += (docs.push(doc(9, docs.length)), 60);
  }
  const a = interleaved(day1);
  const b = interleaved(day2);
  const size = await roundTrip(t, a, b, 13);
  const forwardOnly = await roundTrip(t, a, b, 13, { history: 0 });
  t.ok(size < changed, `delta ${size} bytes for about ${changed} bytes changed (forward only: ${forwardOnly})`);
});

/** A tar-like archive: 512-byte headers (name, size, mtime, checksum, zero padding) before each file. */
function tarLike(files: Array<{ name: string; body: Buffer; mtime: number }>): Buffer {
  const out: Buffer[] = [];
  for (const f of files) {
    const h = Buffer.alloc(512);
    h.write(f.name, 0);
    h.write(`0000644\0${f.body.length.toString(8).padStart(11, '0')}\0${f.mtime.toString(8).padStart(11, '0')}\0`, 100);
    h.write(`${(f.mtime % 65536).toString(8).padStart(6, '0')}\0 0ustar  \0root\0root`, 148);
    out.push(h, f.body, Buffer.alloc((512 - (f.body.length % 512)) % 512));
  }
  return Buffer.concat(out);
}

t.test('a tar of a folder where a few files changed, every header with a new time, one removed, one renamed so that it sorts earlier', async (t) => {
  const rnd = prng(21);
  const files = Array.from({ length: 300 }, (_, i) => {
    const body =
      i % 3 === 0
        ? randomBytes(20_000 + Math.floor(rnd() * 100_000))
        : Buffer.from(Array.from({ length: 200 + Math.floor(rnd() * 2000) }, (_, k) => `${k}\t${Math.floor(rnd() * 1e6)}\tobs\t${(rnd() * 100).toFixed(2)}\n`).join(''));
    return { name: `./dir${i % 7}/file-${i}`, body, mtime: 1_700_000_000 };
  });
  const day1 = tarLike(files);
  const next = files.map((f, i) => ({ ...f, mtime: 1_700_000_000 + i * 37 })); // untouched files keep their own times
  const added = randomBytes(50_000);
  next.splice(150, 1, { name: './dir3/added', body: added, mtime: 1_700_100_000 }); // one removed, one added
  next[10] = { ...next[10]!, body: Buffer.concat([next[10]!.body, Buffer.from('new row\n'.repeat(300))]) };
  const [renamed] = next.splice(240, 1); // a scanned form, its content moved a few hundred KiB back
  next.splice(232, 0, { ...renamed!, name: './dir0/a-renamed' });
  const size = await roundTrip(t, day1, tarLike(next), 22);
  const forwardOnly = await roundTrip(t, day1, tarLike(next), 22, { history: 0 });
  t.ok(size < added.length + 300 * 24, `delta ${size} bytes: the added file (${added.length} random bytes) and ${300} headers' times (forward only: ${forwardOnly})`);
});

t.test('a long stretch of new content (rows appended, a table added) comes out in pieces as it is read, not held until it ends', async (t) => {
  const base = randomBytes(1 << 20);
  const added = randomBytes(24 << 20);
  let largest = 0;
  let total = 0;
  for await (const piece of encodeByteDelta(pieces(base, prng(1)), pieces(Buffer.concat([base, added]), prng(2)), { history: DELTA_HISTORY })) {
    largest = Math.max(largest, piece.length);
    total += piece.length;
  }
  t.ok(total > added.length, `${total} bytes of operations`);
  t.ok(largest <= 2 << 20, `the largest piece is ${largest} bytes (memory stays bounded whatever the size of the new content)`);
});

t.test('random edits of random sizes (bytes flipped in place, inserted, deleted, moved) round-trip (fuzz)', async (t) => {
  const rnd = prng(77);
  for (let round = 0; round < 40; round++) {
    const base = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 200_000) }, () => (rnd() < 0.5 ? 65 + Math.floor(rnd() * 4) : Math.floor(rnd() * 256))));
    const parts: Buffer[] = [];
    for (let at = 0; at < base.length; ) {
      const n = Math.floor(rnd() * 20_000);
      const r = rnd();
      if (r < 0.5) parts.push(base.subarray(at, at + n));
      else if (r < 0.6) {
        // Same-length changes (resynchronised in place): a few bytes flipped, some close together.
        const part = Buffer.from(base.subarray(at, at + n));
        for (let k = Math.floor(rnd() * 8); k > 0 && part.length; k--) {
          const i = Math.floor(rnd() * part.length);
          part[i] = part[i]! ^ (1 + Math.floor(rnd() * 255));
        }
        parts.push(part);
      } else if (r < 0.8) parts.push(randomBytes(Math.floor(rnd() * 300)));
      else if (r < 0.9) parts.push(base.subarray(Math.floor(rnd() * base.length)).subarray(0, n));
      at += n;
    }
    const next = Buffer.concat(parts);
    const rr = prng(round);
    const used = { reach: 0 };
    const ops = await concat(encodeByteDelta(pieces(base, rr, 5000), pieces(next, rr, 5000), { window: 1 << 16, history: round % 2 ? 1 << 15 : 0, used }));
    const out = await concat(applyByteDelta(pieces(base, rr, 5000), pieces(ops, rr, 100), used.reach));
    if (!out.equals(next)) t.fail(`round ${round} differs`);
  }
  t.pass('40 rounds');
});

t.test('a garbled, truncated or overreaching op stream is refused with a RepositoryError (fuzz)', async (t) => {
  const rnd = prng(5);
  const base = randomBytes(4096);
  // A block moved back: the stream holds every operation, P included.
  const moved = Buffer.concat([base.subarray(0, 2000), Buffer.from('xyz'), base.subarray(2100, 3000), base.subarray(500, 1500), base.subarray(3000)]);
  const good = await concat(encodeByteDelta(pieces(base, rnd), pieces(moved, rnd), { history: 4096 }));
  t.ok(good.includes(0x50), 'the stream has a copy back');
  let refused = 0;
  for (let k = 0; k < 500; k++) {
    const bad = Buffer.from(good);
    const mode = k % 3;
    const mutated = mode === 0 ? bad.subarray(0, Math.floor(rnd() * bad.length)) : mode === 1 ? (bad[Math.floor(rnd() * bad.length)] = Math.floor(rnd() * 256), bad) : randomBytes(1 + Math.floor(rnd() * 64));
    try {
      await concat(applyByteDelta(pieces(base, rnd), pieces(mutated, rnd, 7), 4096));
    } catch (err) {
      if (!(err instanceof RepositoryError)) throw err;
      refused++;
    }
  }
  t.ok(refused > 300, `${refused} of 500 refused, none crashed`);
  const events: Op[] = [];
  t.throws(() => new OpReader(2).feed(Buffer.from([0x49, 0x81, 0x80, 0x80, 0x01]), events), /exceeds 1 MiB/);
  await t.rejects(concat(applyByteDelta(pieces(base, rnd), pieces(Buffer.from([0x43, 0x90, 0x40, 0x45]), rnd))), /past the end of its base/);
  t.throws(() => new OpReader(2).feed(Buffer.from([0x50, 0x05, 0x06]), events), /reaches past the cursor/, 'a copy back longer than its distance');
  // C 100, P 200 back: beyond a reach of 100 and beyond what was passed.
  await t.rejects(concat(applyByteDelta(pieces(base, rnd), pieces(Buffer.from([0x43, 0x64, 0x50, 0x81, 0x01, 0x05, 0x45]), rnd), 100)), /beyond 100/);
  await t.rejects(concat(applyByteDelta(pieces(base, rnd), pieces(Buffer.from([0x43, 0x64, 0x50, 0x81, 0x01, 0x05, 0x45]), rnd), 4096)), /beyond 100/);
  t.equal((await concat(applyByteDelta(pieces(base, rnd), pieces(Buffer.from([0x43, 0x64, 0x50, 0x64, 0x05, 0x45]), rnd), 100))).toString('hex'), Buffer.concat([base.subarray(0, 100), base.subarray(0, 5)]).toString('hex'), 'a copy back at its reach');
});
