/**
 * Applies a delta's operation stream (either format) to its base, read forward once: what both
 * formats' readers share. The base side says what a copy or skip counts (bytes or tokens).
 */
import { OpReader, type Op } from './op-stream.js';

const OUT_BATCH_BYTES = 256 * 1024;

export interface Taken {
  count: number;
  bytes: Buffer;
}

/** The base as a delta's copies and skips consume it. */
export interface BaseSide {
  /** Up to n units (format 2: bytes; format 1: tokens) from the front of the base, at least one: how many, and their bytes. Throws past its end. */
  take(n: number): Taken | Promise<Taken>;
  /** n bytes from d bytes behind the cursor (format 2's P). */
  past(d: number, n: number): Buffer;
  close(): Promise<void>;
}

export async function* applyOps(format: 1 | 2, base: BaseSide, ops: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const reader = new OpReader(format);
  let out: Buffer[] = [];
  let outBytes = 0;
  const flush = (): Buffer => {
    const b = out.length === 1 ? out[0]! : Buffer.concat(out, outBytes);
    out = [];
    outBytes = 0;
    return b;
  };
  const events: Op[] = [];
  try {
    for await (const piece of ops) {
      reader.feed(piece, events);
      for (const ev of events) {
        if (ev.op === 'copy' || ev.op === 'skip') {
          for (let left = ev.n; left > 0; ) {
            // Most takes are served from bytes already read: no promise for each of a delta's many copies.
            let taken = base.take(left);
            if (taken instanceof Promise) taken = await taken;
            const { count, bytes } = taken;
            left -= count;
            if (ev.op === 'skip') continue;
            out.push(bytes);
            outBytes += bytes.length;
            if (outBytes >= OUT_BATCH_BYTES) yield flush();
          }
        } else if (ev.op === 'past' || ev.op === 'literal') {
          const bytes = ev.op === 'past' ? base.past(ev.d, ev.n) : ev.bytes;
          out.push(bytes);
          outBytes += bytes.length;
          if (outBytes >= OUT_BATCH_BYTES) yield flush();
        }
      }
      events.length = 0;
    }
    reader.finish();
    if (outBytes) yield flush();
  } finally {
    await base.close();
  }
}
