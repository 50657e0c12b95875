/**
 * Writes the format-2 delta operation stream (op-stream.ts reads it): operations on the base's
 * bytes, read forward. Consecutive copies and skips are merged; a skip then an insert of the same
 * length is one R.
 */
import { MAX_LITERAL, OP_COPY, OP_END, OP_INSERT, OP_PAST, OP_REPLACE, OP_SKIP, putVarint } from './op-stream.js';

export { MAX_LITERAL };

/**
 * Operations go straight into one growing buffer: a small change costs a few ops, and a Buffer
 * (and a concat) for each op's byte and varint was a fifth of the encoder's time on scattered changes.
 */
export class ByteOpWriter {
  private out = Buffer.allocUnsafe(256 * 1024);
  private len = 0;
  private pendingCopy = 0;
  private pendingSkip = 0;

  copy(n: number): void {
    if (n <= 0) return;
    this.flushSkip();
    this.pendingCopy += n;
  }
  skip(n: number): void {
    if (n <= 0) return;
    this.flushCopy();
    this.pendingSkip += n;
  }
  /** Inserts `bytes` (any length: cut into inserts of at most 1 MiB); they are copied. */
  insert(bytes: Buffer): void {
    this.flushCopy();
    for (let at = 0; at < bytes.length; at += MAX_LITERAL) {
      const part = bytes.subarray(at, at + MAX_LITERAL);
      if (this.pendingSkip === part.length) {
        this.pendingSkip = 0;
        this.op(OP_REPLACE, part.length);
      } else {
        this.flushSkip();
        this.op(OP_INSERT, part.length);
      }
      this.room(part.length);
      this.len += part.copy(this.out, this.len);
    }
  }
  /** Outputs n base bytes from d bytes behind the cursor (n ≤ d); the cursor stays. */
  past(d: number, n: number): void {
    this.flushCopy();
    this.flushSkip();
    this.op(OP_PAST, d, n);
  }
  end(): void {
    this.flushCopy();
    this.flushSkip();
    this.room(1);
    this.out[this.len++] = OP_END;
  }
  /** Op bytes ready so far (a copy). */
  take(): Buffer {
    const b = Buffer.from(this.out.subarray(0, this.len));
    this.len = 0;
    return b;
  }
  get pendingBytes(): number {
    return this.len;
  }

  private flushCopy(): void {
    if (!this.pendingCopy) return;
    this.op(OP_COPY, this.pendingCopy);
    this.pendingCopy = 0;
  }
  private flushSkip(): void {
    if (!this.pendingSkip) return;
    this.op(OP_SKIP, this.pendingSkip);
    this.pendingSkip = 0;
  }
  private op(code: number, a: number, b = -1): void {
    this.room(17);
    this.out[this.len++] = code;
    this.len = putVarint(this.out, this.len, a);
    if (b >= 0) this.len = putVarint(this.out, this.len, b);
  }
  private room(n: number): void {
    if (this.len + n <= this.out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.len + n));
    this.out.copy(grown, 0, 0, this.len);
    this.out = grown;
  }
}
