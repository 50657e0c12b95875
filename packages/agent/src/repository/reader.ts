/** Reading a snapshot back: the full base streamed through each delta of the chain. */
import type { SnapshotManifest } from '@sentinela/shared';
import { applyDeltaBytes } from './delta-decode.js';
import { RepositoryError } from './errors.js';
import type { Subkeys } from './keys.js';
import { readObjects } from './object-io.js';
import type { Store } from './store.js';

export interface ChainContext {
  store: Store;
  keys: Subkeys;
  /** Manifest of a snapshot by id (bases). */
  manifest(id: string): Promise<SnapshotManifest>;
  onBytes?: (n: number) => void;
}

/** The snapshot's bytes: a full one straight from its objects, a delta applied to its base's bytes. */
export async function* readContent(ctx: ChainContext, m: SnapshotManifest, depth = 0): AsyncGenerator<Buffer> {
  if (m.base === null) {
    yield* readObjects(ctx.store, ctx.keys, m.objects, ctx.onBytes);
    return;
  }
  if (depth > 10000) throw new RepositoryError(`snapshot ${m.id}: its chain of bases loops`, 'bad-manifest');
  const base = await baseOf(ctx, m);
  yield* applyDeltaBytes(m.tokenizer, readContent(ctx, base, depth + 1), readObjects(ctx.store, ctx.keys, m.objects, ctx.onBytes));
}

function baseOf(ctx: ChainContext, m: SnapshotManifest): Promise<SnapshotManifest> {
  return ctx.manifest(m.base!).catch((err: unknown) => {
    throw new RepositoryError(`snapshot ${m.id} needs its base ${m.base}, which cannot be read: ${(err as Error).message}`, 'missing-base');
  });
}
