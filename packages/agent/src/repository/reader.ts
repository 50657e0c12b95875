/** Reading a snapshot back: the full base streamed through each delta of the chain, as tokens. */
import type { SnapshotManifest } from '@sentinela/shared';
import type { Tokenizer } from '../sources/source.js';
import { applyDelta } from './delta-decode.js';
import { RepositoryError } from './errors.js';
import type { Subkeys } from './keys.js';
import { readObjects } from './object-io.js';
import type { Store } from './store.js';
import { tokenize } from './tokenizers.js';

export interface ChainContext {
  store: Store;
  keys: Subkeys;
  /** Manifest of a snapshot by id (bases). */
  manifest(id: string): Promise<SnapshotManifest>;
  onBytes?: (n: number) => void;
}

/** The snapshot's content cut with `tokenizer` (a delta's base is cut with the delta's tokenizer). */
export async function* readTokens(ctx: ChainContext, m: SnapshotManifest, tokenizer: Tokenizer, depth = 0): AsyncGenerator<Buffer[]> {
  if (depth > 10000) throw new RepositoryError(`snapshot ${m.id}: its chain of bases loops`, 'bad-manifest');
  if (m.base === null) {
    yield* tokenize(tokenizer, readObjects(ctx.store, ctx.keys, m.objects, ctx.onBytes));
    return;
  }
  const base = await ctx.manifest(m.base).catch((err: unknown) => {
    throw new RepositoryError(`snapshot ${m.id} needs its base ${m.base}, which cannot be read: ${(err as Error).message}`, 'missing-base');
  });
  const out = applyDelta(readTokens(ctx, base, m.tokenizer, depth + 1), readObjects(ctx.store, ctx.keys, m.objects, ctx.onBytes));
  if (tokenizer === m.tokenizer) yield* out;
  else yield* tokenize(tokenizer, joinBatches(out));
}

export async function* joinBatches(batches: AsyncIterable<Buffer[]>): AsyncGenerator<Buffer> {
  for await (const b of batches) if (b.length) yield b.length === 1 ? b[0]! : Buffer.concat(b);
}

/** The snapshot's bytes (a full one straight from its objects). */
export function readContent(ctx: ChainContext, m: SnapshotManifest): AsyncIterable<Buffer> {
  return m.base === null ? readObjects(ctx.store, ctx.keys, m.objects, ctx.onBytes) : joinBatches(readTokens(ctx, m, m.tokenizer));
}
