/**
 * The format-2 delta operation stream (docs/repository.md, "Streams"): operations on the base's
 * bytes, read forward. C n (copy n base bytes), S n (skip n base bytes), I n bytes (insert n
 * bytes), R n bytes (skip n base bytes and insert n bytes in their place), P d n (output n base
 * bytes starting d bytes behind the cursor, which stays; d is at most the manifest's `reach`),
 * E (end). d and n are unsigned LEB128 varints; an insert carries at most 1 MiB. Writer and
 * incremental parser.
 */
import { RepositoryError } from './errors.js';
import { OP_COPY, OP_END, OP_INSERT, OP_SKIP, varint } from './delta-format.js';

export const OP_REPLACE = 0x52; // 'R'
export const OP_PAST = 0x50; // 'P'
/** Most bytes one I or R carries: bounds what the parser holds. */
export const MAX_LITERAL = 1024 * 1024;

export type ByteOp = { op: 'copy'; n: number } | { op: 'skip'; n: number } | { op: 'literal'; bytes: Buffer } | { op: 'past'; d: number; n: number } | { op: 'end' };

/** Fed the op stream piece by piece (pieces may cut anywhere); returns whole operations. */
export class ByteOpParser {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  /** Pieces held back while an insert is incomplete (joined once it is whole, not at every piece). */
  private waiting: Buffer[] = [];
  private waitingBytes = 0;
  private need = 0;

  feed(piece: Buffer, out: ByteOp[]): void {
    if (this.need) {
      this.waiting.push(piece);
      this.waitingBytes += piece.length;
      if (this.buf.length + this.waitingBytes < this.need) return;
      piece = Buffer.concat(this.waiting);
      this.waiting = [];
      this.waitingBytes = 0;
      this.need = 0;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, piece]) : piece;
    let pos = 0;
    while (pos < this.buf.length) {
      const op = this.buf[pos]!;
      if (this.ended) throw new RepositoryError('delta stream: data after the end operation', 'corrupt-object');
      if (op === OP_END) {
        out.push({ op: 'end' });
        this.ended = true;
        pos++;
        continue;
      }
      if (op !== OP_COPY && op !== OP_SKIP && op !== OP_INSERT && op !== OP_REPLACE && op !== OP_PAST)
        throw new RepositoryError(`delta stream: unknown operation byte 0x${op.toString(16)}`, 'corrupt-object');
      const n = readVarint(this.buf, pos + 1);
      if (!n) break;
      if (op === OP_PAST) {
        const len = readVarint(this.buf, n.next);
        if (!len) break;
        if (len.value < 1 || len.value > n.value) throw new RepositoryError(`delta stream: a copy of ${len.value} bytes from ${n.value} bytes back reaches past the cursor`, 'corrupt-object');
        out.push({ op: 'past', d: n.value, n: len.value });
        pos = len.next;
        continue;
      }
      if (op === OP_COPY || op === OP_SKIP) {
        out.push({ op: op === OP_COPY ? 'copy' : 'skip', n: n.value });
        pos = n.next;
        continue;
      }
      if (n.value > MAX_LITERAL) throw new RepositoryError(`delta stream: an insert of ${n.value} bytes exceeds 1 MiB`, 'corrupt-object');
      if (n.next + n.value > this.buf.length) {
        this.need = n.next + n.value - pos;
        break;
      }
      if (op === OP_REPLACE) out.push({ op: 'skip', n: n.value });
      out.push({ op: 'literal', bytes: this.buf.subarray(n.next, n.next + n.value) });
      pos = n.next + n.value;
    }
    // Keep only the unparsed tail (a partial operation: at most ~1 MiB).
    this.buf = pos >= this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(pos));
  }

  finish(): void {
    if (!this.ended || this.buf.length || this.waitingBytes) throw new RepositoryError('delta stream is truncated (no end operation)', 'corrupt-object');
  }
}

function readVarint(buf: Buffer, pos: number): { value: number; next: number } | null {
  let value = 0;
  let mul = 1;
  for (let i = pos; i < buf.length; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * mul;
    if (!(b & 0x80)) return { value, next: i + 1 };
    mul *= 0x80;
    if (mul > 2 ** 49) throw new RepositoryError('delta stream: varint too long', 'corrupt-object');
  }
  return null;
}

/** Builds the op stream, merging consecutive copies and skips; a skip then an insert of the same length is one R. */
export class ByteOpWriter {
  private pieces: Buffer[] = [];
  private size = 0;
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
  /** Inserts `bytes` (any length: cut into inserts of at most 1 MiB). */
  insert(bytes: Buffer): void {
    this.flushCopy();
    for (let at = 0; at < bytes.length; at += MAX_LITERAL) {
      const part = bytes.subarray(at, at + MAX_LITERAL);
      if (this.pendingSkip === part.length) {
        this.pendingSkip = 0;
        this.emit(Buffer.concat([Buffer.of(OP_REPLACE), varint(part.length)]));
      } else {
        this.flushSkip();
        this.emit(Buffer.concat([Buffer.of(OP_INSERT), varint(part.length)]));
      }
      this.emit(part);
    }
  }
  /** Outputs n base bytes from d bytes behind the cursor (n ≤ d); the cursor stays. */
  past(d: number, n: number): void {
    this.flushCopy();
    this.flushSkip();
    this.emit(Buffer.concat([Buffer.of(OP_PAST), varint(d), varint(n)]));
  }
  end(): void {
    this.flushCopy();
    this.flushSkip();
    this.emit(Buffer.of(OP_END));
  }
  /** Op bytes ready so far. */
  take(): Buffer[] {
    const out = this.pieces;
    this.pieces = [];
    this.size = 0;
    return out;
  }
  get pendingBytes(): number {
    return this.size;
  }

  private flushCopy(): void {
    if (!this.pendingCopy) return;
    this.emit(Buffer.concat([Buffer.of(OP_COPY), varint(this.pendingCopy)]));
    this.pendingCopy = 0;
  }
  private flushSkip(): void {
    if (!this.pendingSkip) return;
    this.emit(Buffer.concat([Buffer.of(OP_SKIP), varint(this.pendingSkip)]));
    this.pendingSkip = 0;
  }
  private emit(b: Buffer): void {
    this.pieces.push(b);
    this.size += b.length;
  }
}
