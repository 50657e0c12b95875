/**
 * Applies a format-2 delta (byte operations) to its base's byte stream, read forward once, in
 * bounded memory: the base bytes passed are kept only as far back as the delta's `reach`.
 */
import { ByteReader } from './byte-reader.js';
import { applyOps, type BaseSide, type Taken } from './delta-apply.js';
import { RepositoryError } from './errors.js';

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

/** The base's bytes: a copy or skip counts bytes; what passes is kept as far back as the reach. */
class ByteBase implements BaseSide {
  private readonly reader: ByteReader;
  private readonly history: History;
  constructor(base: AsyncIterable<Buffer>, reach: number) {
    this.reader = new ByteReader(base);
    this.history = new History(reach);
  }
  take(n: number): Taken | Promise<Taken> {
    return this.reader.raw.length ? this.slice(n) : this.readMore(n);
  }
  private async readMore(n: number): Promise<Taken> {
    if (!(await this.reader.more())) throw new RepositoryError(`delta refers to ${n} bytes past the end of its base`, 'corrupt-object');
    return this.slice(n);
  }
  private slice(n: number): Taken {
    const r = this.reader;
    const bytes = r.raw.subarray(0, n);
    r.raw = r.raw.subarray(bytes.length);
    this.history.push(bytes);
    return { count: bytes.length, bytes };
  }
  past(d: number, n: number): Buffer {
    return this.history.get(d, n);
  }
  close(): Promise<void> {
    return this.reader.close();
  }
}

/** `reach`: the manifest's, how far back `P` operations look (0: none). */
export function applyByteDelta(base: AsyncIterable<Buffer>, ops: AsyncIterable<Buffer>, reach = 0): AsyncGenerator<Buffer> {
  return applyOps(2, new ByteBase(base, reach), ops);
}
