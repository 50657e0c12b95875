/**
 * Applies a format-2 delta (byte operations) to its base's byte stream, read forward once, in
 * bounded memory: the base bytes passed are kept only as far back as the delta's `reach`.
 */
import { ByteReader } from './byte-reader.js';
import { ByteOpParser, type ByteOp } from './byte-delta-format.js';
import { RepositoryError } from './errors.js';

const OUT_BATCH_BYTES = 256 * 1024;

/** The last `size` bytes of a stream passed, in a ring. */
class History {
  private readonly ring: Buffer;
  private total = 0;
  constructor(readonly size: number) {
    this.ring = Buffer.allocUnsafeSlow(size);
  }
  push(b: Buffer): void {
    const size = this.size;
    if (!size) return;
    const tail = b.length > size ? b.subarray(b.length - size) : b;
    const at = (this.total + b.length - tail.length) % size;
    const first = Math.min(tail.length, size - at);
    tail.copy(this.ring, at, 0, first);
    if (first < tail.length) tail.copy(this.ring, 0, first);
    this.total += b.length;
  }
  /** n bytes from d bytes back (a copy: the ring moves on). */
  get(d: number, n: number): Buffer {
    if (d > this.size || d > this.total)
      throw new RepositoryError(`delta refers to base bytes ${d} bytes behind its cursor, beyond ${Math.min(this.size, this.total)} (its reach)`, 'corrupt-object');
    const out = Buffer.allocUnsafe(n);
    const at = (this.total - d) % this.size;
    const first = Math.min(n, this.size - at);
    this.ring.copy(out, 0, at, at + first);
    if (first < n) this.ring.copy(out, first, 0, n - first);
    return out;
  }
}

/** `reach`: the manifest's, how far back `P` operations look (0: none). */
export async function* applyByteDelta(base: AsyncIterable<Buffer>, ops: AsyncIterable<Buffer>, reach = 0): AsyncGenerator<Buffer> {
  const reader = new ByteReader(base);
  const history = new History(reach);
  const parser = new ByteOpParser();
  let out: Buffer[] = [];
  let outBytes = 0;
  const flush = (): Buffer => {
    const b = out.length === 1 ? out[0]! : Buffer.concat(out, outBytes);
    out = [];
    outBytes = 0;
    return b;
  };
  const events: ByteOp[] = [];
  try {
    for await (const piece of ops) {
      parser.feed(piece, events);
      for (const ev of events) {
        if (ev.op === 'copy' || ev.op === 'skip') {
          for (let left = ev.n; left > 0; ) {
            if (!reader.raw.length && !(await reader.more()))
              throw new RepositoryError(`delta refers to ${left} bytes past the end of its base`, 'corrupt-object');
            const part = reader.raw.subarray(0, left);
            reader.raw = reader.raw.subarray(part.length);
            left -= part.length;
            history.push(part);
            if (ev.op === 'skip') continue;
            out.push(part);
            outBytes += part.length;
            if (outBytes >= OUT_BATCH_BYTES) yield flush();
          }
        } else if (ev.op === 'past') {
          out.push(history.get(ev.d, ev.n));
          outBytes += ev.n;
          if (outBytes >= OUT_BATCH_BYTES) yield flush();
        } else if (ev.op === 'literal') {
          out.push(ev.bytes);
          outBytes += ev.bytes.length;
          if (outBytes >= OUT_BATCH_BYTES) yield flush();
        }
      }
      events.length = 0;
    }
    parser.finish();
    if (outBytes) yield flush();
  } finally {
    await reader.close();
  }
}
