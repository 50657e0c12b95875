/**
 * A delta's operation stream (docs/repository.md, "Streams"), read: one incremental parser for
 * both formats. Format 1 (token operations): C n, S n, I count then count × (len, bytes), E.
 * Format 2 (byte operations): C n, S n, I n bytes, R n bytes (skip n and insert n bytes in their
 * place), P d n (n base bytes from d bytes behind the cursor), E. Numbers are unsigned LEB128
 * varints; an inserted token or insert carries at most 1 MiB, which bounds what the parser holds.
 */
import { RepositoryError } from './errors.js';

export const OP_COPY = 0x43; // 'C'
export const OP_SKIP = 0x53; // 'S'
export const OP_INSERT = 0x49; // 'I'
export const OP_END = 0x45; // 'E'
export const OP_REPLACE = 0x52; // 'R' (format 2)
export const OP_PAST = 0x50; // 'P' (format 2)
/** Most bytes one inserted token (format 1) or one I or R (format 2) carries. */
export const MAX_LITERAL = 1024 * 1024;

/** copy and skip count base tokens (format 1) or bytes (format 2); an R comes out as a skip then a literal. */
export type Op = { op: 'copy'; n: number } | { op: 'skip'; n: number } | { op: 'literal'; bytes: Buffer } | { op: 'past'; d: number; n: number } | { op: 'end' };

/** Writes n as an unsigned LEB128 varint at out[at]; returns the position after it. */
export function putVarint(out: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

export function varint(n: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  return out.subarray(0, putVarint(out, 0, n));
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

/** Fed the op stream piece by piece (pieces may cut anywhere); returns whole operations. */
export class OpReader {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  /** Pieces held back while an insert is incomplete (joined once it is whole, not at every piece). */
  private waiting: Buffer[] = [];
  private waitingBytes = 0;
  private need = 0;
  /** Format 1: inserted tokens still to come after an I. */
  private tokensLeft = 0;

  constructor(readonly format: 1 | 2) {}

  feed(piece: Buffer, out: Op[]): void {
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
      if (this.tokensLeft > 0) {
        const next = this.literal(pos, pos, out);
        if (next < 0) break;
        pos = next;
        this.tokensLeft--;
        continue;
      }
      const op = this.buf[pos]!;
      if (this.ended) throw new RepositoryError('delta stream: data after the end operation', 'corrupt-object');
      if (op === OP_END) {
        out.push({ op: 'end' });
        this.ended = true;
        pos++;
        continue;
      }
      const known = op === OP_COPY || op === OP_SKIP || op === OP_INSERT || (this.format === 2 && (op === OP_REPLACE || op === OP_PAST));
      if (!known) throw new RepositoryError(`delta stream: unknown operation byte 0x${op.toString(16)}`, 'corrupt-object');
      if (op === OP_COPY || op === OP_SKIP) {
        const n = readVarint(this.buf, pos + 1);
        if (!n) break;
        out.push({ op: op === OP_COPY ? 'copy' : 'skip', n: n.value });
        pos = n.next;
      } else if (op === OP_PAST) {
        const d = readVarint(this.buf, pos + 1);
        const n = d && readVarint(this.buf, d.next);
        if (!d || !n) break;
        if (n.value < 1 || n.value > d.value) throw new RepositoryError(`delta stream: a copy of ${n.value} bytes from ${d.value} bytes back reaches past the cursor`, 'corrupt-object');
        out.push({ op: 'past', d: d.value, n: n.value });
        pos = n.next;
      } else if (this.format === 1) {
        const count = readVarint(this.buf, pos + 1);
        if (!count) break;
        this.tokensLeft = count.value;
        pos = count.next;
      } else {
        const next = this.literal(pos + 1, pos, out, op === OP_REPLACE);
        if (next < 0) break;
        pos = next;
      }
    }
    // Keep only the unparsed tail (a partial operation: at most ~1 MiB).
    this.buf = pos >= this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(pos));
  }

  /** A length then that many bytes at `at` (the operation began at `start`): the position after them, or -1 when they have not all come. */
  private literal(at: number, start: number, out: Op[], replace = false): number {
    const n = readVarint(this.buf, at);
    if (!n) return -1;
    if (n.value > MAX_LITERAL) throw new RepositoryError(`delta stream: an insert of ${n.value} bytes exceeds 1 MiB`, 'corrupt-object');
    if (n.next + n.value > this.buf.length) {
      this.need = n.next + n.value - start;
      return -1;
    }
    if (replace) out.push({ op: 'skip', n: n.value });
    out.push({ op: 'literal', bytes: this.buf.subarray(n.next, n.next + n.value) });
    return n.next + n.value;
  }

  finish(): void {
    if (!this.ended || this.buf.length || this.waitingBytes || this.tokensLeft) throw new RepositoryError('delta stream is truncated (no end operation)', 'corrupt-object');
  }
}
