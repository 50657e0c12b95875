/** Reading a snapshot back: the full base streamed through each delta of the chain. */
import type { SnapshotManifest } from '@sentinela/shared';
import { applyByteDelta } from './byte-delta-decode.js';
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
  /** Each object read and authenticated on the way (verify counts them as checked). */
  onObject?: (name: string, storedBytes: number) => void;
}

/** The snapshot's bytes: a full one straight from its objects, a delta applied to its base's bytes (either format). */
export async function* readContent(ctx: ChainContext, m: SnapshotManifest, depth = 0): AsyncGenerator<Buffer> {
  if (m.base === null) {
    yield* readObjects(ctx.store, ctx.keys, m.objects, ctx.onObject);
    return;
  }
  if (depth > 10000) throw new RepositoryError(`snapshot ${m.id}: its chain of bases loops`, 'bad-manifest');
  const base = await baseOf(ctx, m);
  const baseBytes = readContent(ctx, base, depth + 1);
  const ops = readObjects(ctx.store, ctx.keys, m.objects, ctx.onObject);
  // Format 2: byte operations; format 1: token operations over the base cut with the delta's tokenizer.
  if (m.v === 2) yield* applyByteDelta(baseBytes, ops, m.reach ?? 0);
  else yield* applyDeltaBytes(m.tokenizer!, baseBytes, ops);
}

function baseOf(ctx: ChainContext, m: SnapshotManifest): Promise<SnapshotManifest> {
  return ctx.manifest(m.base!).catch((err: unknown) => {
    throw new RepositoryError(`snapshot ${m.id} needs its base ${m.base}, which cannot be read: ${(err as Error).message}`, 'missing-base');
  });
}
