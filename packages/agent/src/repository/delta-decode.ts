/** Applies a format-1 delta (token operations) to its base's token stream, forward only, in bounded memory. */
import type { Tokenizer } from '../sources/source.js';
import { ByteReader } from './byte-reader.js';
import { applyOps, type BaseSide, type Taken } from './delta-apply.js';
import { OpReader, type Op } from './op-stream.js';
import { RepositoryError } from './errors.js';
import { countCuts } from './tokenizers.js';

const OUT_BATCH_BYTES = 256 * 1024;

class TokenCursor {
  private batch: Buffer[] = [];
  private i = 0;
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer[]>) {}

  /** Moves n tokens to `out` (or drops them when out is null). */
  async take(n: number, out: Buffer[] | null): Promise<void> {
    while (n > 0) {
      if (this.i >= this.batch.length) {
        if (this.done || !(await this.refill())) throw new RepositoryError(`delta refers to ${n} base tokens past the end of its base`, 'corrupt-object');
        continue;
      }
      const k = Math.min(n, this.batch.length - this.i);
      if (out) for (let j = 0; j < k; j++) out.push(this.batch[this.i + j]!);
      this.i += k;
      n -= k;
    }
  }

  private async refill(): Promise<boolean> {
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    this.batch = r.value;
    this.i = 0;
    return true;
  }

  async close(): Promise<void> {
    await this.it.return?.(undefined);
  }
}

export async function* applyDelta(base: AsyncIterable<Buffer[]>, ops: AsyncIterable<Buffer>): AsyncGenerator<Buffer[]> {
  const cursor = new TokenCursor(base[Symbol.asyncIterator]());
  const parser = new OpReader(1);
  let out: Buffer[] = [];
  let outBytes = 0;
  const events: Op[] = [];
  try {
    for await (const piece of ops) {
      parser.feed(piece, events);
      for (const ev of events) {
        if (ev.op === 'copy') {
          // In slices, so that a copy of millions of tokens still leaves in bounded batches.
          for (let left = ev.n; left > 0; ) {
            const k = Math.min(left, 4096);
            const from = out.length;
            await cursor.take(k, out);
            for (let j = from; j < out.length; j++) outBytes += out[j]!.length;
            left -= k;
            if (outBytes >= OUT_BATCH_BYTES) {
              yield out;
              out = [];
              outBytes = 0;
            }
          }
        } else if (ev.op === 'skip') await cursor.take(ev.n, null);
        else if (ev.op === 'literal') {
          out.push(ev.bytes);
          outBytes += ev.bytes.length;
        }
        if (outBytes >= OUT_BATCH_BYTES) {
          yield out;
          out = [];
          outBytes = 0;
        }
      }
      events.length = 0;
    }
    parser.finish();
    if (out.length) yield out;
  } finally {
    await cursor.close();
  }
}

/** The base's bytes cut with the delta's tokenizer: a copy or skip counts tokens, and leaves as slices of the base's bytes. */
class TokenBase implements BaseSide {
  private readonly reader: ByteReader;
  constructor(
    private readonly kind: Tokenizer,
    base: AsyncIterable<Buffer>,
  ) {
    this.reader = new ByteReader(base);
  }
  take(n: number): Promise<Taken> {
    return nextTokens(this.kind, this.reader, n);
  }
  past(): Buffer {
    throw new RepositoryError('delta stream: format 1 has no copy back', 'corrupt-object'); // its reader refuses P before
  }
  close(): Promise<void> {
    return this.reader.close();
  }
}

/**
 * applyDelta from and to bytes (what restores use): a copy leaves as slices of the base's bytes,
 * its tokens counted rather than cut one by one. The output is the same bytes.
 */
export function applyDeltaBytes(kind: Tokenizer, base: AsyncIterable<Buffer>, ops: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  return applyOps(1, new TokenBase(kind, base), ops);
}

/** Up to `max` whole tokens from the front of the base (at least one): their count and bytes. */
async function nextTokens(kind: Tokenizer, reader: ByteReader, max: number): Promise<{ count: number; bytes: Buffer }> {
  for (;;) {
    if (reader.raw.length) {
      const { count, end } = countCuts(kind, reader.raw, reader.raw.length, max);
      if (count > 0) {
        const bytes = reader.raw.subarray(0, end);
        reader.raw = reader.raw.subarray(end);
        return { count, bytes };
      }
    }
    if (!(await reader.more())) {
      // At the end, what is left (shorter than any cut) is the last token.
      if (reader.raw.length) {
        const bytes = reader.raw;
        reader.raw = Buffer.alloc(0);
        return { count: 1, bytes };
      }
      throw new RepositoryError(`delta refers to ${max} base tokens past the end of its base`, 'corrupt-object');
    }
  }
}
