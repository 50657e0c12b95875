/**
 * The content-defined anchors of the format-2 encoder (byte-delta-encode.ts): a gear hash rolled
 * over the bytes, an anchor where its top 6 bits are zero (one position in 64 on average). The hash
 * depends on the last 32 bytes alone, so the same content gives the same anchors wherever it lies.
 * (A worker thread finding the base's anchors was tried on top of this module: e4a9437.)
 */
import { endianness } from 'node:os';
import { GEAR } from './tokenizers.js';

/** The gear table as int32: the hash then stays a small integer in V8's optimised loops (~15 % faster than uint32). */
const G = new Int32Array(GEAR.buffer, GEAR.byteOffset, GEAR.length);

export const HASHED = 32; // the gear hash depends on the last 32 bytes
const ANCHOR_SHIFT = 26; // an anchor where the top 6 bits of the hash are zero: one position in 64

/** The hash after nextAnchor's last byte. */
let hashOut = 0;
/** The hash after the last nextAnchor call. */
export const anchorHash = (): number => hashOut;

/** Words are read in the host's byte order: the four-byte path needs little-endian. */
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Rolls the gear hash h over buf[i], buf[i+1]… and returns the first index at which it makes an
 * anchor (`end` if none; hashOut holds the hash there). This loop is most of a delta's own time:
 * reading four bytes a turn as one word (`words` views buf's memory, which starts on a 4-byte
 * boundary) costs ~35 % less than a byte at a time.
 */
export function nextAnchor(buf: Buffer, words: Int32Array, i: number, end: number, h: number): number {
  if (LITTLE_ENDIAN) {
    for (; i < end && i & 3; i++) {
      h = ((h << 1) + G[buf[i]!]!) | 0;
      if (h >>> ANCHOR_SHIFT === 0) return ((hashOut = h), i);
    }
    for (let k = i >> 2, kEnd = end >> 2; k < kEnd; k++) {
      const w = words[k]!;
      h = ((h << 1) + G[w & 255]!) | 0;
      if (h >>> ANCHOR_SHIFT === 0) return ((hashOut = h), k << 2);
      h = ((h << 1) + G[(w >>> 8) & 255]!) | 0;
      if (h >>> ANCHOR_SHIFT === 0) return ((hashOut = h), (k << 2) + 1);
      h = ((h << 1) + G[(w >>> 16) & 255]!) | 0;
      if (h >>> ANCHOR_SHIFT === 0) return ((hashOut = h), (k << 2) + 2);
      h = ((h << 1) + G[w >>> 24]!) | 0;
      if (h >>> ANCHOR_SHIFT === 0) return ((hashOut = h), (k << 2) + 3);
    }
    i = Math.max(i, end & ~3);
  }
  for (; i < end; i++) {
    h = ((h << 1) + G[buf[i]!]!) | 0;
    if (h >>> ANCHOR_SHIFT === 0) return ((hashOut = h), i);
  }
  hashOut = h;
  return end;
}

/** True when the 32 hashed bytes ending at buf[i] are one byte repeated: such anchors are everywhere (padding, zeroed pages) and point nowhere. */
export function isRun(buf: Buffer, i: number): boolean {
  const b = buf[i];
  for (let k = i - HASHED + 1; k < i; k++) if (buf[k] !== b) return false;
  return true;
}
