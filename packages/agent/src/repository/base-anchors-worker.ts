/**
 * The worker of base-anchors.ts: finds the anchors of the base's bytes as they are read, so that
 * the encoder's thread only looks them up. Bytes come in pieces through a shared ring (no copy
 * made per message, no fresh memory per piece); each piece is answered, in order, with its anchors
 * (the hash and the position of the last hashed byte), runs of one byte left out as the encoder
 * leaves them out.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { anchorHash, HASHED, isRun, nextAnchor } from './gear-anchors.js';

export interface AnchorPiece {
  /** Where the piece is in the ring, and its base offset. */
  slot: number;
  len: number;
  abs: number;
}
export interface AnchorAnswer {
  abs: number;
  len: number;
  n: number;
  hashes: Int32Array;
  pos: Float64Array;
}

const { ring, piece } = workerData as { ring: SharedArrayBuffer; piece: number };
const view = new Uint8Array(ring);
// The last HASHED bytes before the piece, then the piece: a run is judged on bytes of the piece before.
const scratch = Buffer.allocUnsafeSlow(HASHED + piece);
const words = new Int32Array(scratch.buffer, scratch.byteOffset, scratch.length >> 2);
scratch.fill(0, 0, HASHED);
let h = 0;

parentPort!.on('message', (m: AnchorPiece) => {
  scratch.set(view.subarray(m.slot, m.slot + m.len), HASHED);
  let cap = (m.len >> 5) + 16;
  let hashes = new Int32Array(cap);
  let pos = new Float64Array(cap);
  let n = 0;
  const end = HASHED + m.len;
  const first = HASHED - 1 - m.abs + HASHED; // scratch index of base offset HASHED - 1: the first full hash
  for (let r = HASHED; r < end; r++) {
    r = nextAnchor(scratch, words, r, end, h);
    h = anchorHash();
    if (r >= end) break;
    if (r >= first && !isRun(scratch, r)) {
      if (n === cap) {
        cap *= 2;
        const hs = new Int32Array(cap);
        hs.set(hashes);
        hashes = hs;
        const ps = new Float64Array(cap);
        ps.set(pos);
        pos = ps;
      }
      hashes[n] = h;
      pos[n++] = m.abs + r - HASHED;
    }
  }
  scratch.copyWithin(0, m.len, m.len + HASHED);
  const answer: AnchorAnswer = { abs: m.abs, len: m.len, n, hashes, pos };
  parentPort!.postMessage(answer, [hashes.buffer, pos.buffer]);
});
