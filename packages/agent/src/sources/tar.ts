/**
 * A minimal POSIX tar (ustar with pax extended headers for long names and big sizes) writer and
 * reader. Tar, because a `files` snapshot restored to a file is then a plain archive that `tar -xf`
 * opens on any machine, with or without Sentinela. Regular files and symbolic links only; folders are
 * implied by the paths. Written here (about 200 lines) rather than taken as a dependency because the
 * reader must refuse unsafe paths, and both must stream with bounded memory.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, open, readlink, realpath, symlink, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';

const BLOCK = 512;
const ZERO = Buffer.alloc(BLOCK);

export interface TarEntry {
  /** Path inside the archive, with `/`. */
  path: string;
  /** Absolute path of the file to read. */
  source: string;
  type: 'file' | 'symlink';
  mode: number;
  size: number;
  mtime: Date;
  uid: number;
  gid: number;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, type: string, size: number, e: Pick<TarEntry, 'mode' | 'mtime' | 'uid' | 'gid'>, linkname = ''): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(e.mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(e.uid & 0o7777777, 8), 108, 'ascii');
  h.write(octal(e.gid & 0o7777777, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.floor(e.mtime.getTime() / 1000), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0' + '00', 257, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest ? ZERO.subarray(0, BLOCK - rest) : Buffer.alloc(0);
}

/**
 * The archive's bytes, entry by entry; a file that shrinks while being read is padded, one that grows
 * is cut. `onFile` gets each file's SHA-256 of the bytes archived for it.
 */
export async function* tarStream(entries: AsyncIterable<TarEntry> | Iterable<TarEntry>, onFile?: (e: TarEntry, sha256: string) => void): AsyncGenerator<Buffer> {
  for await (const e of entries) {
    const linkname = e.type === 'symlink' ? await readlink(e.source) : '';
    const size = e.type === 'file' ? e.size : 0;
    const pax: string[] = [];
    if (Buffer.byteLength(e.path) > 100 || /[^\x20-\x7e]/.test(e.path)) pax.push(paxRecord('path', e.path));
    if (Buffer.byteLength(linkname) > 100 || /[^\x20-\x7e]/.test(linkname)) pax.push(paxRecord('linkpath', linkname));
    if (size >= 8 ** 11) pax.push(paxRecord('size', String(size)));
    if (pax.length) {
      const body = Buffer.from(pax.join(''), 'utf8');
      yield header(`PaxHeader/${e.path.slice(-80)}`, 'x', body.length, e);
      yield body;
      yield padding(body.length);
    }
    yield header(e.path, e.type === 'file' ? '0' : '2', size, e, linkname);
    if (e.type !== 'file') continue;
    const fh = await open(e.source, 'r');
    const hash = createHash('sha256');
    try {
      let done = 0;
      while (done < size) {
        const buf = Buffer.alloc(Math.min(256 * 1024, size - done));
        const { bytesRead } = await fh.read(buf, 0, buf.length, done);
        if (bytesRead === 0) {
          const fill = Buffer.alloc(size - done); // the file shrank: keep the archive well-formed
          hash.update(fill);
          yield fill;
          break;
        }
        hash.update(buf.subarray(0, bytesRead));
        yield buf.subarray(0, bytesRead);
        done += bytesRead;
      }
    } finally {
      await fh.close();
    }
    onFile?.(e, hash.digest('hex'));
    yield padding(size);
  }
  yield ZERO;
  yield ZERO;
}

export class TarError extends Error {
  override name = 'TarError';
}

/** Reads exactly the bytes asked for from an async iterator of chunks. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  constructor(stream: Readable) {
    this.it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }
  /** Up to `n` bytes (fewer only at the end of the stream). */
  async take(n: number): Promise<Buffer> {
    while (this.buf.length < n) {
      const next = await this.it.next();
      if (next.done) break;
      this.buf = this.buf.length ? Buffer.concat([this.buf, next.value]) : next.value;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }
}

function field(h: Buffer, off: number, len: number): string {
  const end = h.indexOf(0, off);
  return h.toString('utf8', off, end === -1 || end > off + len ? off + len : end);
}

function num(h: Buffer, off: number, len: number): number {
  const s = field(h, off, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function parsePax(body: Buffer): Record<string, string> {
  // Records are "<length> <key>=<value>\n", the length counted in bytes.
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    const len = parseInt(body.toString('ascii', i, sp), 10);
    if (sp === -1 || !(len > 0)) break;
    const rec = body.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/** The path an entry would be written to, or an error if it would land outside `root`. */
export function safeTarget(root: string, path: string): string {
  const parts = path.split('/').filter((p) => p && p !== '.');
  if (isAbsolute(path) || parts.includes('..') || parts.length === 0) throw new TarError(`refusing unsafe path in archive: ${JSON.stringify(path)}`);
  const target = resolve(root, ...parts);
  if (!target.startsWith(resolve(root) + sep)) throw new TarError(`refusing unsafe path in archive: ${JSON.stringify(path)}`);
  return target;
}

/** Refuses to write through a symbolic link (an archive's own link could point outside the target). */
async function assertInside(root: string, dir: string): Promise<void> {
  const real = await realpath(dir);
  const realRoot = await realpath(root);
  if (real !== realRoot && !real.startsWith(realRoot + sep)) throw new TarError(`refusing to write outside the target folder (through a link): ${dir}`);
}

export interface ExtractedEntry {
  path: string;
  type: 'file' | 'symlink' | 'dir';
  size: number;
  /** SHA-256 of a file's content as extracted. */
  sha256?: string;
}

/**
 * Extracts a tar stream into `root`. Paths are checked (no absolute paths, no `..`, no writing
 * through links); links are created last, so that no file can be written through one.
 */
export async function extractTar(stream: Readable, root: string, onEntry?: (e: ExtractedEntry) => void): Promise<ExtractedEntry[]> {
  const reader = new ByteReader(stream);
  const done: ExtractedEntry[] = [];
  const links: Array<{ target: string; linkname: string; path: string }> = [];
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  for (;;) {
    const h = await reader.take(BLOCK);
    if (h.length < BLOCK) throw new TarError('archive ends in the middle of a header (truncated)');
    if (h.equals(ZERO)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (sum !== num(h, 148, 8)) throw new TarError('bad header checksum: not a tar archive, or a damaged one');
    const type = String.fromCharCode(h[156]!) || '0';
    const prefix = h.toString('ascii', 257, 262) === 'ustar' ? field(h, 345, 155) : '';
    let path = pax.path ?? longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    const size = pax.size !== undefined ? Number(pax.size) : num(h, 124, 12);
    const linkname = pax.linkpath ?? field(h, 157, 100);
    const mode = num(h, 100, 8);
    const mtime = num(h, 136, 12);
    const body = async (): Promise<Buffer> => {
      const b = await reader.take(size + padding(size).length);
      if (b.length < size) throw new TarError(`archive truncated inside ${path}`);
      return b.subarray(0, size);
    };
    if (type === 'x' || type === 'g' || type === 'L') {
      const b = await body();
      if (type === 'x') pax = parsePax(b);
      if (type === 'L') longName = field(b, 0, b.length);
      continue;
    }
    pax = {};
    longName = undefined;
    path = path.replace(/^\.\//, '');
    if (type === '5') {
      if (path.replace(/\/+$/, '')) await mkdir(safeTarget(root, path), { recursive: true });
      continue;
    }
    const target = safeTarget(root, path);
    await mkdir(dirname(target), { recursive: true });
    await assertInside(root, dirname(target));
    if (type === '2') {
      links.push({ target, linkname, path });
      continue;
    }
    if (type !== '0' && type !== '7') throw new TarError(`unsupported entry type ${JSON.stringify(type)} for ${path}`);
    // Over an existing folder (force), never follow a link that sits where the file goes.
    if ((await lstat(target).catch(() => undefined))?.isSymbolicLink()) await unlink(target);
    const fh = await open(target, 'w', mode & 0o7777 || 0o644);
    const hash = createHash('sha256');
    try {
      let left = size;
      while (left > 0) {
        const part = await reader.take(Math.min(left, 1024 * 1024));
        if (part.length === 0) throw new TarError(`archive truncated inside ${path}`);
        hash.update(part);
        await fh.write(part);
        left -= part.length;
      }
      await fh.chmod(mode & 0o7777 || 0o644);
      await fh.utimes(mtime, mtime);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const pad = padding(size).length;
    if (pad && (await reader.take(pad)).length < pad) throw new TarError(`archive truncated after ${path}`);
    const entry: ExtractedEntry = { path, type: 'file', size, sha256: hash.digest('hex') };
    done.push(entry);
    onEntry?.(entry);
  }
  for (const l of links) {
    await lstat(l.target).then(
      () => {
        throw new TarError(`refusing to replace ${l.path} with a link`);
      },
      () => undefined,
    );
    await symlink(l.linkname, l.target);
    const entry: ExtractedEntry = { path: l.path, type: 'symlink', size: 0 };
    done.push(entry);
    onEntry?.(entry);
  }
  return done;
}

