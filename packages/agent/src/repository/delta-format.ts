/**
 * Writes the format-1 delta operation stream (op-stream.ts reads it): C n, S n, I n (len bytes)×n,
 * E, over tokens. Backups write format 2 since; this writer remains for the tests of format 1's reader.
 */
import { OP_COPY, OP_END, OP_INSERT, OP_SKIP, varint } from './op-stream.js';

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
