/** `length` bytes of a file from `offset`; a file shorter than that is an error naming it. */
import { open } from 'node:fs/promises';

export async function readRange(path: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    if (bytesRead !== length) throw new Error(`${path} is shorter than expected (${offset + bytesRead} < ${offset + length})`);
    return buf;
  } finally {
    await fh.close();
  }
}
