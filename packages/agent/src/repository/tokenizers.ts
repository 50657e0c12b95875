/**
 * Cutting content into tokens, the unit of the delta (docs/repository.md, "Streams"). The decoder
 * re-cuts the base the same way, so these rules are part of the format: change nothing here
 * without a new format version.
 */
import { createHash } from 'node:crypto';
import type { Tokenizer as TokenizerKind } from '../sources/source.js';

export const MAX_TOKEN = 1024 * 1024;
export const PAGE_SIZE = 4096;
export const CHUNK_MIN = 512;
export const CHUNK_MAX = 16 * 1024;

/** Incremental cutter: push() returns the tokens completed so far, end() the rest. */
export interface Cutter {
  push(chunk: Buffer): Buffer[];
  end(): Buffer[];
}

export function createCutter(kind: TokenizerKind): Cutter {
  switch (kind) {
    case 'lines':
      return new LineCutter();
    case 'pages':
      return new FixedCutter(PAGE_SIZE);
    case 'chunks':
      return new GearCutter();
  }
}

/**
 * The tokens that `buf[0..limit)` completes when cutting starts at its first byte, counted
 * without cutting them: `count` tokens ending at byte `end`. Cuts are decided by the bytes before
 * them alone, so equal bytes from a common boundary are cut alike in both versions of a dump.
 */
export function countCuts(kind: TokenizerKind, buf: Buffer, limit: number, max = Infinity): { count: number; end: number } {
  if (kind === 'pages') {
    const count = Math.min(Math.floor(limit / PAGE_SIZE), max);
    return { count, end: count * PAGE_SIZE };
  }
  if (kind === 'lines') {
    const view = buf.subarray(0, limit);
    let pos = 0;
    let count = 0;
    while (count < max) {
      const nl = view.indexOf(10, pos);
      const end = Math.min(nl === -1 ? Infinity : nl + 1, pos + MAX_TOKEN);
      if (end > limit) break;
      count++;
      pos = end;
    }
    return { count, end: pos };
  }
  // Content-defined chunks: cut for real, a slice at a time, so that a few tokens cost a few.
  const cutter = createCutter(kind);
  let count = 0;
  let end = 0;
  for (let from = 0; from < limit && count < max; from += 64 * 1024) {
    for (const t of cutter.push(buf.subarray(from, Math.min(from + 64 * 1024, limit)))) {
      if (count === max) break;
      count++;
      end += t.length;
    }
  }
  return { count, end };
}

/** Token batches (one per input chunk) from a byte stream. */
export async function* tokenize(kind: TokenizerKind, input: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<Buffer[]> {
  const cutter = createCutter(kind);
  for await (const chunk of input) {
    const tokens = cutter.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    if (tokens.length) yield tokens;
  }
  const rest = cutter.end();
  if (rest.length) yield rest;
}

/** A token ends after `\n`, or at 1 MiB when a line is longer (the line goes on in the next token). */
class LineCutter implements Cutter {
  private parts: Buffer[] = [];
  private partLen = 0;

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const room = MAX_TOKEN - this.partLen;
      const nl = chunk.indexOf(10, pos);
      const end = nl === -1 ? chunk.length : nl + 1;
      if (end - pos >= room) {
        // The token fills up before (or exactly at) the end of this line.
        this.take(out, chunk.subarray(pos, pos + room));
        pos += room;
      } else if (nl !== -1) {
        this.take(out, chunk.subarray(pos, end));
        pos = end;
      } else {
        this.parts.push(chunk.subarray(pos));
        this.partLen += chunk.length - pos;
        pos = chunk.length;
      }
    }
    return out;
  }

  private take(out: Buffer[], last: Buffer): void {
    if (this.partLen === 0) out.push(last);
    else {
      this.parts.push(last);
      out.push(Buffer.concat(this.parts));
      this.parts = [];
      this.partLen = 0;
    }
  }

  end(): Buffer[] {
    if (this.partLen === 0) return [];
    const t = Buffer.concat(this.parts);
    this.parts = [];
    this.partLen = 0;
    return [t];
  }
}

class FixedCutter implements Cutter {
  private parts: Buffer[] = [];
  private partLen = 0;
  constructor(private readonly size: number) {}

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let pos = 0;
    if (this.partLen > 0) {
      const need = Math.min(this.size - this.partLen, chunk.length);
      this.parts.push(chunk.subarray(0, need));
      this.partLen += need;
      pos = need;
      if (this.partLen === this.size) {
        out.push(Buffer.concat(this.parts));
        this.parts = [];
        this.partLen = 0;
      }
    }
    while (chunk.length - pos >= this.size) {
      out.push(chunk.subarray(pos, pos + this.size));
      pos += this.size;
    }
    if (pos < chunk.length) {
      this.parts.push(chunk.subarray(pos));
      this.partLen += chunk.length - pos;
    }
    return out;
  }

  end(): Buffer[] {
    if (this.partLen === 0) return [];
    const t = Buffer.concat(this.parts);
    this.parts = [];
    return (this.partLen = 0), [t];
  }
}

/** gear[i] = first 4 bytes (big-endian) of SHA-256("sentinela/v1/gear" ‖ i). The format-2 encoder's anchors use it too. */
export const GEAR = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) t[i] = createHash('sha256').update('sentinela/v1/gear').update(Buffer.of(i)).digest().readUInt32BE(0);
  return t;
})();

/**
 * Content-defined chunks: h = (2h + gear[byte]) mod 2^32 from 0 at each token's start; cut after
 * a byte when the token is ≥ 512 bytes and the top 11 bits of h are zero, or at 16 KiB.
 * h depends on the last 32 bytes only, so hashing may start 32 bytes before the minimum.
 */
class GearCutter implements Cutter {
  private parts: Buffer[] = [];
  private partLen = 0;
  private h = 0;

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let start = 0;
    let len = this.partLen;
    let h = this.h;
    let i = 0;
    while (i < chunk.length) {
      if (len < CHUNK_MIN - 32) {
        // Skip ahead: bytes here cannot influence the cut decision.
        const skip = Math.min(CHUNK_MIN - 32 - len, chunk.length - i);
        i += skip;
        len += skip;
        h = 0;
        continue;
      }
      h = ((h << 1) + GEAR[chunk[i]!]!) >>> 0;
      i++;
      len++;
      if ((len >= CHUNK_MIN && h >>> 21 === 0) || len === CHUNK_MAX) {
        const piece = chunk.subarray(start, i);
        if (this.partLen === 0) out.push(piece);
        else {
          this.parts.push(piece);
          out.push(Buffer.concat(this.parts));
          this.parts = [];
          this.partLen = 0;
        }
        start = i;
        len = 0;
        h = 0;
      }
    }
    if (start < chunk.length) {
      this.parts.push(chunk.subarray(start));
      this.partLen += chunk.length - start;
    }
    this.h = h;
    return out;
  }

  end(): Buffer[] {
    if (this.partLen === 0) return [];
    const t = Buffer.concat(this.parts);
    this.parts = [];
    this.partLen = 0;
    this.h = 0;
    return [t];
  }
}
