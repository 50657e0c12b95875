/**
 * The smallest tar (ustar) that carries a repository folder over HTTP: regular files only, names
 * under 100 bytes (repository paths are at most ~80). The hub writes it as a stream; the agent
 * reads it as a stream into a folder, refusing any path that would leave that folder.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { once } from 'node:events';

export function tarHeader(name: string, size: number, mode = 0o644): Buffer {
  if (Buffer.byteLength(name) > 99) throw new Error(`tar: name too long: ${name}`);
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s, off, len, 'utf8');
  const oct = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
  put(name, 0, 100);
  put(oct(mode, 8), 100, 8);
  put(oct(0, 8), 108, 8);
  put(oct(0, 8), 116, 8);
  put(oct(size, 12), 124, 12);
  put(oct(Math.floor(Date.now() / 1000), 12), 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\u000000', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

export function tarPadding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

export const TAR_END = Buffer.alloc(1024);

/** One file as tar bytes (header, content, padding). */
export function tarEntry(name: string, data: Uint8Array, mode = 0o644): Buffer[] {
  return [tarHeader(name, data.length, mode), Buffer.from(data), tarPadding(data.length)];
}

/** Extracts a tar stream into `dir`; returns the number of files. Each file is written as it arrives. */
export async function extractTar(source: AsyncIterable<Uint8Array>, dir: string, onBytes?: (n: number) => void): Promise<number> {
  let buf = Buffer.alloc(0);
  let files = 0;
  let total = 0;
  let current: { out: ReturnType<typeof createWriteStream>; left: number; pad: number } | null = null;
  for await (const chunk of source) {
    total += chunk.length;
    onBytes?.(total);
    buf = buf.length ? Buffer.concat([buf, chunk]) : Buffer.from(chunk);
    for (;;) {
      if (current) {
        if (current.left > 0) {
          const take = Math.min(current.left, buf.length);
          if (take === 0) break;
          if (!current.out.write(buf.subarray(0, take))) await once(current.out, 'drain');
          buf = buf.subarray(take);
          current.left -= take;
          if (current.left > 0) break;
        }
        if (buf.length < current.pad) break;
        buf = buf.subarray(current.pad);
        current.out.end();
        await once(current.out, 'close');
        current = null;
        files++;
      }
      if (buf.length < 512) break;
      const h = buf.subarray(0, 512);
      if (h.every((b) => b === 0)) return files;
      const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
      const size = parseInt(h.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
      const mode = parseInt(h.subarray(100, 108).toString('utf8').replace(/\0.*$/s, '').trim() || '644', 8);
      const rel = normalize(name);
      if (rel.startsWith('..') || rel.startsWith(sep) || rel.includes(`${sep}..${sep}`)) throw new Error(`tar: refused path ${name}`);
      const path = join(dir, rel);
      await mkdir(dirname(path), { recursive: true });
      buf = buf.subarray(512);
      current = { out: createWriteStream(path, { mode: mode & 0o777 }), left: size, pad: (512 - (size % 512)) % 512 };
    }
  }
  if (current) throw new Error('tar: the stream ended in the middle of a file');
  return files;
}
