/**
 * The delta operation stream (docs/repository.md, "Streams"): C n, S n, I n (len bytes)×n, E.
 * Counts and lengths are unsigned LEB128 varints. Writer and incremental parser.
 */
import { RepositoryError } from './errors.js';

export const OP_COPY = 0x43; // 'C'
export const OP_SKIP = 0x53; // 'S'
export const OP_INSERT = 0x49; // 'I'
export const OP_END = 0x45; // 'E'

export function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

export type OpEvent = { op: 'copy'; n: number } | { op: 'skip'; n: number } | { op: 'token'; token: Buffer } | { op: 'end' };

/** Fed the op stream piece by piece (pieces may cut anywhere); returns whole events. */
export class OpParser {
  private buf: Buffer = Buffer.alloc(0);
  private insertLeft = 0;
  private ended = false;

  feed(piece: Buffer, out: OpEvent[]): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, piece]) : piece;
    let pos = 0;
    for (;;) {
      if (this.insertLeft > 0) {
        const len = readVarint(this.buf, pos);
        if (!len || len.next + len.value > this.buf.length) break;
        if (len.value > 1024 * 1024) throw new RepositoryError(`delta stream: inserted token of ${len.value} bytes exceeds 1 MiB`, 'corrupt-object');
        out.push({ op: 'token', token: this.buf.subarray(len.next, len.next + len.value) });
        pos = len.next + len.value;
        this.insertLeft--;
        continue;
      }
      if (pos >= this.buf.length) break;
      const op = this.buf[pos]!;
      if (this.ended) throw new RepositoryError('delta stream: data after the end operation', 'corrupt-object');
      if (op === OP_END) {
        out.push({ op: 'end' });
        this.ended = true;
        pos++;
        continue;
      }
      if (op !== OP_COPY && op !== OP_SKIP && op !== OP_INSERT)
        throw new RepositoryError(`delta stream: unknown operation byte 0x${op.toString(16)}`, 'corrupt-object');
      const n = readVarint(this.buf, pos + 1);
      if (!n) break;
      pos = n.next;
      if (op === OP_COPY) out.push({ op: 'copy', n: n.value });
      else if (op === OP_SKIP) out.push({ op: 'skip', n: n.value });
      else this.insertLeft = n.value;
    }
    // Keep only the unparsed tail (a partial op or token: at most ~1 MiB).
    this.buf = pos >= this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(pos));
  }

  finish(): void {
    if (!this.ended || this.buf.length || this.insertLeft) throw new RepositoryError('delta stream is truncated (no end operation)', 'corrupt-object');
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

/** Builds the op stream, merging consecutive copies/skips and batching inserts. */
export class OpWriter {
  private pieces: Buffer[] = [];
  private size = 0;
  private pendingKind: 'copy' | 'skip' | null = null;
  private pendingN = 0;
  private inserts: Buffer[] = [];
  private insertBytes = 0;

  copy(n: number): void {
    this.run('copy', n);
  }
  skip(n: number): void {
    this.run('skip', n);
  }
  insert(token: Buffer): void {
    this.flushRun();
    this.inserts.push(token);
    this.insertBytes += token.length;
    if (this.insertBytes >= 1024 * 1024) this.flushInserts();
  }
  end(): void {
    this.flushRun();
    this.flushInserts();
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

  private run(kind: 'copy' | 'skip', n: number): void {
    if (n <= 0) return;
    this.flushInserts();
    if (this.pendingKind !== kind) this.flushRun();
    this.pendingKind = kind;
    this.pendingN += n;
  }
  private flushRun(): void {
    if (!this.pendingKind) return;
    this.emit(Buffer.concat([Buffer.of(this.pendingKind === 'copy' ? OP_COPY : OP_SKIP), varint(this.pendingN)]));
    this.pendingKind = null;
    this.pendingN = 0;
  }
  private flushInserts(): void {
    if (!this.inserts.length) return;
    this.emit(Buffer.concat([Buffer.of(OP_INSERT), varint(this.inserts.length)]));
    for (const t of this.inserts) {
      this.emit(varint(t.length));
      this.emit(t);
    }
    this.inserts = [];
    this.insertBytes = 0;
  }
  private emit(b: Buffer): void {
    this.pieces.push(b);
    this.size += b.length;
  }
}
