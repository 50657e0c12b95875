/** A `files` snapshot (tar) extracted into a folder: a new or empty one, or any with force. */
import { mkdirSync, readdirSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { DumpInfo } from '../source.js';
import { extractTar } from '../tar.js';
import { RestoreRefused, byteCounter, type RestoreOptions, type RestoreReport } from './report.js';

export async function restoreFiles(content: Readable, dir: string, opts: RestoreOptions & { expectedFiles?: DumpInfo['files'] } = {}): Promise<RestoreReport> {
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length && !opts.force) {
    content.destroy();
    throw new RestoreRefused(`${dir} is not empty; restore into a new folder, or use force to write into it`);
  }
  const counter = byteCounter(opts.onProgress);
  // A damaged snapshot (the repository's stream errors) must fail the extraction, not end it early.
  content.on('error', (err) => counter.stage.destroy(err));
  const extracted = await extractTar(content.pipe(counter.stage), dir);
  const got = new Map(extracted.map((e) => [e.path, e]));
  const problems: string[] = [];
  for (const f of opts.expectedFiles ?? []) {
    const e = got.get(f.path);
    if (!e) problems.push(`${f.path} is missing`);
    else if (e.type === 'file' && e.size !== f.size) problems.push(`${f.path} has ${e.size} bytes, the snapshot says ${f.size}`);
    else if (e.type === 'file' && f.sha256 && e.sha256 !== f.sha256) problems.push(`${f.path}: its content differs from the snapshot's (SHA-256)`);
  }
  return { target: dir, bytes: counter.bytes(), tables: {}, problems, ok: problems.length === 0 };
}
