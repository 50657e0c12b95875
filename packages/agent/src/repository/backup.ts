/**
 * One backup run: stream the dump into objects (full) or into a delta against the previous
 * snapshot of the same source, which is itself streamed back from the repository. The manifest
 * is written last, only once the dump tool has succeeded and every object has been read back.
 */
import type { SnapshotManifest } from '@sentinela/shared';
import { DumpError, type Source } from '../sources/source.js';
import { RepositoryError } from './errors.js';
import type { BackupOptions } from './api.js';
import { encodeByteDelta } from './byte-delta-encode.js';
import { sealManifest, newSnapshotId } from './manifests.js';
import { ObjectWriter } from './object-io.js';
import { readContent, type ChainContext } from './reader.js';
import { sha256 } from './store.js';

/**
 * Brotli quality: 1 (with a 256 KiB window, objects.ts) compresses a dump at ~350 MB/s a core to
 * about restic's size (3: 2 % smaller at a third of the speed; 4: -10 % bytes, ~5× the time);
 * deltas are small, so they get more.
 */
export const FULL_QUALITY = 1;
export const DELTA_QUALITY = 6;
/**
 * Base bytes behind the cursor a delta may copy back from (docs/repository.md, `P`): content that
 * moved backward (mongodump's interleaved collections, a tar whose files shifted) is copied rather
 * than inserted again. Each delta of a chain being restored keeps this much of its base: 24 × 2 MiB.
 */
export const DELTA_HISTORY = 2 * 1024 * 1024;

export interface BackupContext extends ChainContext {
  site: string;
  /** Complete snapshots of the source, oldest first. */
  history(source: string): Promise<SnapshotManifest[]>;
}

export async function runBackup(ctx: BackupContext, source: Source, opts: BackupOptions = {}): Promise<SnapshotManifest> {
  const rebaseEvery = opts.rebaseEvery ?? 24;
  const history = await ctx.history(source.name);
  const previous = history.at(-1);
  const base = previous && rebaseEvery > 0 && previous.chain < rebaseEvery ? previous : undefined;
  const startedAt = new Date();
  const dump = source.dump();
  dump.info.catch(() => {}); // awaited below; never an unhandled rejection meanwhile

  const hash = sha256();
  let bytes = 0;
  const report = () => opts.onProgress?.({ phase: base ? 'dumping (delta)' : 'dumping (full)', doneBytes: bytes });
  async function* counted(): AsyncGenerator<Buffer> {
    let lastReport = 0;
    for await (const chunk of dump.stream as AsyncIterable<Buffer | string>) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('backup aborted');
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      hash.update(buf);
      bytes += buf.length;
      if (bytes - lastReport >= 8 * 1024 * 1024) (report(), (lastReport = bytes));
      yield buf;
    }
  }

  // A delta's objects are few (what changed), and the delta's own windows already hold ~60 MiB:
  // one at a time keeps a day 2 with much new content within the memory bound.
  const writer = base ? new ObjectWriter(ctx.store, ctx.keys, DELTA_QUALITY, 1) : new ObjectWriter(ctx.store, ctx.keys, FULL_QUALITY);
  const used = { reach: 0 };
  let info: Awaited<typeof dump.info>;
  try {
    if (base) {
      for await (const piece of encodeByteDelta(readContent(ctx, base), counted(), { history: DELTA_HISTORY, used })) await writer.write(piece);
    } else {
      for await (const chunk of counted()) await writer.write(chunk);
    }
    info = await dump.info; // a failed dump rejects here: no manifest
  } catch (err) {
    await writer.settle();
    dump.stream.destroy();
    // A failure of the repository's side (a full disk, a damaged base) caused the tool's broken
    // pipe: it is what to report. Otherwise the tool's own failure says more than the stream's.
    const toolFailure = await dump.info.then(
      () => null,
      (e: unknown) => e,
    );
    throw !(err instanceof RepositoryError) && toolFailure instanceof DumpError ? toolFailure : err;
  }
  const { objects, stored } = await writer.finish();
  report();

  const id = newSnapshotId(source.name, startedAt);
  const manifest: SnapshotManifest = {
    v: 2,
    id,
    site: ctx.site,
    source: source.name,
    kind: source.kind,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    tool: { name: info.tool.name, version: info.tool.version },
    base: base ? base.id : null,
    chain: base ? base.chain + 1 : 0,
    content: { bytes, sha256: hash.digest('hex') },
    stored,
    ...(base ? { reach: used.reach } : {}),
    objects,
    ...(info.tables ? { tables: info.tables } : {}),
    ...(info.tableSums ? { tableSums: info.tableSums } : {}),
    ...(info.sourceTables ? { sourceTables: info.sourceTables } : {}),
    ...(info.files ? { files: info.files } : {}),
  };
  await ctx.store.writeEnvelope(await sealManifest(ctx.keys, manifest));
  return manifest;
}
