/** Which snapshot of the spool to offer next: the oldest the hub lacks, its bases first. */
import { Store, type SnapshotEnvelope } from '@sentinela/shared';

export async function nextToOffer(spool: Store, atHub: ReadonlySet<string>, skip: ReadonlySet<string>): Promise<SnapshotEnvelope | null> {
  for (const id of await spool.snapshotIds()) {
    if (atHub.has(id) || skip.has(id)) continue;
    let env = await spool.readEnvelope(id);
    // A delta is useless at the hub without its base: offer the oldest missing base of the chain first.
    while (env.base && !atHub.has(env.base) && (await spool.hasSnapshot(env.base))) env = await spool.readEnvelope(env.base);
    if (!skip.has(env.id)) return env;
  }
  return null;
}

/** Stored sizes of the envelope's objects, in its order. */
export async function objectSizes(spool: Store, env: SnapshotEnvelope): Promise<number[]> {
  const all = new Map((await spool.listObjects()).map((o) => [o.name, o.size]));
  return env.objects.map((o) => {
    const size = all.get(o);
    if (size === undefined) throw new Error(`object ${o} of snapshot ${env.id} is missing from the spool`);
    return size;
  });
}
