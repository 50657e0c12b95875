/** Applies a format-2 delta (byte operations) to its base's byte stream, forward only, in bounded memory. */
import { ByteReader } from './byte-reader.js';
import { ByteOpParser, type ByteOp } from './byte-delta-format.js';
import { RepositoryError } from './errors.js';

const OUT_BATCH_BYTES = 256 * 1024;

export async function* applyByteDelta(base: AsyncIterable<Buffer>, ops: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const reader = new ByteReader(base);
  const parser = new ByteOpParser();
  let out: Buffer[] = [];
  let outBytes = 0;
  const flush = (): Buffer => {
    const b = out.length === 1 ? out[0]! : Buffer.concat(out, outBytes);
    out = [];
    outBytes = 0;
    return b;
  };
  const events: ByteOp[] = [];
  try {
    for await (const piece of ops) {
      parser.feed(piece, events);
      for (const ev of events) {
        if (ev.op === 'copy' || ev.op === 'skip') {
          for (let left = ev.n; left > 0; ) {
            if (!reader.raw.length && !(await reader.more()))
              throw new RepositoryError(`delta refers to ${left} bytes past the end of its base`, 'corrupt-object');
            const part = reader.raw.subarray(0, left);
            reader.raw = reader.raw.subarray(part.length);
            left -= part.length;
            if (ev.op === 'skip') continue;
            out.push(part);
            outBytes += part.length;
            if (outBytes >= OUT_BATCH_BYTES) yield flush();
          }
        } else if (ev.op === 'literal') {
          out.push(ev.bytes);
          outBytes += ev.bytes.length;
          if (outBytes >= OUT_BATCH_BYTES) yield flush();
        }
      }
      events.length = 0;
    }
    parser.finish();
    if (outBytes) yield flush();
  } finally {
    await reader.close();
  }
}
