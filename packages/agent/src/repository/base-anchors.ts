/**
 * The base's anchors (gear-anchors.ts) found on a worker thread while the encoder works: hashing
 * the base was most of a delta's own time on shapes that search much (mongodump's interleaved
 * collections: ~0.4 s of 2.6 s on the quick archive), all of it on the thread that also reads,
 * compares and writes. The base's bytes pass through `bytes()` on their way to the encoder's
 * window; each piece is copied into a ring shared with the worker, which answers with its anchors
 * in order. The encoder waits only when it indexes bytes the worker has not reached yet.
 *
 * Memory: the ring (8 MiB), the worker's scratch piece (1 MiB) and the anchors of the bytes not yet
 * forgotten (12 bytes per anchor, one per 64 bytes: ~4 MiB for the encoder's window).
 */
import { Worker } from 'node:worker_threads';
import type { AnchorAnswer, AnchorPiece } from './base-anchors-worker.js';

const PIECE = 1024 * 1024;
const SLOTS = 8;

export class BaseAnchors {
  private readonly worker: Worker;
  private readonly ring = new SharedArrayBuffer(PIECE * SLOTS);
  private readonly view = new Uint8Array(this.ring);
  private readonly answers: AnchorAnswer[] = [];
  /** Base bytes handed to the worker, and answered. */
  private posted = 0;
  private answered = 0;
  private pieces = 0;
  private answeredPieces = 0;
  /** The ring slot being filled (-1: none), and how much it holds: small reads are gathered into one piece. */
  private cur = -1;
  private curLen = 0;
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly src: AsyncIterable<Buffer | Uint8Array | string>) {
    this.worker = new Worker(new URL('./base-anchors-worker.js', import.meta.url), { workerData: { ring: this.ring, piece: PIECE } });
    this.worker.on('message', (a: AnchorAnswer) => {
      this.answers.push(a);
      this.answered = a.abs + a.len;
      this.answeredPieces++;
      this.poke();
    });
    this.worker.on('error', (err) => {
      this.failure = err;
      this.poke();
    });
    this.worker.on('exit', (code) => {
      if (!this.done()) this.failure ??= new Error(`the base's anchor worker stopped (exit code ${code})`);
      this.poke();
    });
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private done(): boolean {
    return this.ended && this.answeredPieces === this.pieces;
  }

  private async next(): Promise<void> {
    if (this.failure) throw this.failure;
    await new Promise<void>((res) => (this.wake = res));
    if (this.failure) throw this.failure;
  }

  /** The base's bytes, unchanged; each also goes to the worker. */
  async *bytes(): AsyncGenerator<Buffer> {
    try {
      for await (const v of this.src) {
        const chunk = typeof v === 'string' ? Buffer.from(v) : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.length);
        for (let at = 0; at < chunk.length; ) {
          if (this.cur < 0) {
            while (this.pieces - this.answeredPieces >= SLOTS) await this.next();
            this.cur = this.pieces % SLOTS;
            this.curLen = 0;
          }
          const n = Math.min(PIECE - this.curLen, chunk.length - at);
          this.view.set(chunk.subarray(at, at + n), this.cur * PIECE + this.curLen);
          this.curLen += n;
          at += n;
          if (this.curLen === PIECE) this.post();
        }
        yield chunk;
      }
      this.post();
      this.ended = true;
      this.poke();
    } finally {
      if (!this.ended) await this.close();
    }
  }

  /** Hands the slot being filled to the worker. */
  private post(): void {
    if (this.cur < 0) return;
    if (this.curLen > 0) {
      const piece: AnchorPiece = { slot: this.cur * PIECE, len: this.curLen, abs: this.posted };
      this.worker.postMessage(piece);
      this.posted += this.curLen;
      this.pieces++;
    }
    this.cur = -1;
    this.curLen = 0;
  }

  /** Every anchor before `abs` is known (or the base has no more). */
  has(abs: number): boolean {
    return this.answered >= abs || this.done();
  }

  /** Waits until has(abs), or until every byte read so far is answered (bytes not read yet have no anchors to wait for). */
  async until(abs: number): Promise<void> {
    while (!this.has(abs)) {
      if (abs > this.posted) this.post(); // a slot partly filled: the encoder needs it now
      if (this.answeredPieces === this.pieces) return;
      await this.next();
    }
  }

  /** Calls add(hash, r) for each anchor whose last hashed byte r is in [from, to), ascending; needs has(to). */
  forEach(from: number, to: number, add: (h: number, r: number) => void): void {
    for (const a of this.answers) {
      if (a.abs + a.len <= from) continue;
      if (a.abs >= to) break;
      let lo = 0;
      let hi = a.n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (a.pos[mid]! < from) lo = mid + 1;
        else hi = mid;
      }
      for (let k = lo; k < a.n; k++) {
        const r = a.pos[k]!;
        if (r >= to) return;
        add(a.hashes[k]!, r);
      }
    }
  }

  /** Anchors before `abs` will not be asked for again. */
  forget(abs: number): void {
    let k = 0;
    while (k < this.answers.length && this.answers[k]!.abs + this.answers[k]!.len <= abs) k++;
    if (k) this.answers.splice(0, k);
  }

  async close(): Promise<void> {
    this.ended = true;
    await this.worker.terminate();
  }
}
