/**
 * A folder (configuration files, attachments) as a tar archive, filtered by include/exclude patterns.
 * Entries are sorted, so an unchanged folder gives the same bytes; content-defined chunks then make a
 * changed file cost about its own size.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { BackupSourceConfig } from '@sentinela/shared';
import { PathMatcher } from './glob.js';
import { DumpError, type Dump, type DumpInfo, type Source } from './source.js';
import { tarStream, type TarEntry } from './tar.js';

type Config = Extract<BackupSourceConfig, { kind: 'files' }>;

/** The folder's files and links that the patterns select, in a stable order. */
export async function* selectFiles(root: string, include: string[], exclude: string[]): AsyncGenerator<TarEntry> {
  const inc = new PathMatcher(include);
  const exc = new PathMatcher(exclude);
  async function* walk(rel: string): AsyncGenerator<TarEntry> {
    const names = (await readdir(rel ? join(root, rel) : root)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      if (exc.matches(path)) continue;
      const abs = join(root, path);
      const st = await lstat(abs);
      if (st.isDirectory()) yield* walk(path);
      else if ((st.isFile() || st.isSymbolicLink()) && (inc.empty || inc.matches(path))) {
        yield { path, source: abs, type: st.isFile() ? 'file' : 'symlink', mode: st.mode & 0o7777, size: st.isFile() ? st.size : 0, mtime: st.mtime, uid: st.uid, gid: st.gid };
      }
      // Sockets, FIFOs and devices are not backed up.
    }
  }
  yield* walk('');
}

export class FilesSource implements Source {
  readonly kind = 'files' as const;
  readonly tokenizer = 'chunks' as const;
  readonly name: string;
  constructor(private readonly config: Config) {
    this.name = config.name;
  }

  dump(): Dump {
    const files: NonNullable<DumpInfo['files']> = [];
    const records = new Map<TarEntry, (typeof files)[number]>();
    const listed = async function* (entries: AsyncGenerator<TarEntry>) {
      for await (const e of entries) {
        const record = { path: e.path, mode: e.mode, size: e.size, mtime: e.mtime.toISOString() };
        files.push(record);
        records.set(e, record);
        yield e;
      }
    };
    const hashed = (e: TarEntry, sha256: string) => {
      records.get(e)!.sha256 = sha256;
      records.delete(e);
    };
    const out = new PassThrough();
    const src = Readable.from(tarStream(listed(selectFiles(this.config.path, this.config.include, this.config.exclude)), hashed));
    const info = new Promise<DumpInfo>((resolve, reject) => {
      src.on('error', (err) => {
        const dumpErr = new DumpError(this.name, err.message, `archiving ${this.config.path} failed: ${err.message}`);
        out.destroy(dumpErr);
        reject(dumpErr);
      });
      src.on('end', () => resolve({ tool: { name: 'sentinela-tar', version: 'ustar+pax' }, files }));
    });
    out.on('close', () => src.destroy());
    src.pipe(out);
    info.catch(() => undefined);
    return { stream: out, info };
  }
}
