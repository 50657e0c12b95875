import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { objectName, Store, type SnapshotEnvelope } from '@sentinela/shared';
import { nextToOffer, objectSizes } from './plan.js';

/** A real spool on disk: objects of the given sizes, and snapshots chained by base. */
async function spool(t: { teardown(fn: () => void): void }): Promise<{ store: Store; snap(id: string, base: string | null, sizes: number[]): Promise<SnapshotEnvelope> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sentinela-offsite-plan-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new Store(dir);
  await store.create({ site: 'hf-1', keyId: 'k1' });
  let n = 0;
  return {
    store,
    async snap(id, base, sizes) {
      const objects: string[] = [];
      for (const size of sizes) {
        const bytes = Buffer.alloc(size, n++);
        const name = objectName(bytes);
        await store.put(name, bytes);
        objects.push(name);
      }
      const env: SnapshotEnvelope = { v: 1, id, site: 'hf-1', base, objects, manifest: 'c2VhbGVk' };
      await store.writeEnvelope(env);
      return env;
    },
  };
}

const DAY1 = '20261201T010000Z-openmrs-a1';
const DAY2 = '20261202T010000Z-openmrs-b2';
const DAY3 = '20261203T010000Z-openmrs-c3';
const FILES = '20261202T020000Z-config-d4';

t.test('the oldest snapshot the hub lacks is offered first, a delta only after its base', async (t) => {
  const { store, snap } = await spool(t);
  await snap(DAY1, null, [10]);
  await snap(DAY2, DAY1, [20]);
  await snap(FILES, null, [30]);
  await snap(DAY3, DAY2, [40]);
  const none = new Set<string>();
  t.equal((await nextToOffer(store, none, none))?.id, DAY1, 'nothing at the hub: the oldest');
  t.equal((await nextToOffer(store, new Set([DAY1]), none))?.id, DAY2);
  t.equal((await nextToOffer(store, new Set([DAY1, DAY2, FILES]), none))?.id, DAY3);
  t.equal(await nextToOffer(store, new Set([DAY1, DAY2, FILES, DAY3]), none), null, 'all at the hub: nothing');
});

t.test('a delta is never offered before a base the hub lacks: a skipped base holds its chain back', async (t) => {
  const { store, snap } = await spool(t);
  await snap(DAY1, null, [10]);
  await snap(DAY2, DAY1, [20]);
  await snap(FILES, null, [25]);
  await snap(DAY3, DAY2, [30]);
  // DAY1 is skipped (say, it failed to send this round): DAY2 and DAY3 would be useless at the hub.
  t.equal((await nextToOffer(store, new Set(), new Set([DAY1])))?.id, FILES, 'the chain waits; another source goes on');
  t.equal(await nextToOffer(store, new Set([FILES]), new Set([DAY1])), null, 'nothing else to offer');
  t.equal((await nextToOffer(store, new Set([DAY1, FILES]), new Set()))?.id, DAY2);
  // A base already forgotten by the spool's retention is not chased: the delta itself is offered.
  await store.removeSnapshot(DAY1);
  t.equal((await nextToOffer(store, new Set([FILES]), new Set()))?.id, DAY2);
});

t.test('object sizes in the envelope\'s order; a missing object is named', async (t) => {
  const { store, snap } = await spool(t);
  const env = await snap(DAY1, null, [7, 300, 41]);
  t.same(await objectSizes(store, env), [7, 300, 41]);
  await store.removeObject(env.objects[1]!);
  await t.rejects(objectSizes(store, env), new RegExp(`object ${env.objects[1]} of snapshot ${DAY1} is missing from the spool`));
});
