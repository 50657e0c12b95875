/**
 * Retention and keyless verify of the hub's copies. Retention keeps, per site and source, the
 * newest `keepLast` snapshots and every base a kept delta needs (deltas go before their bases),
 * then prunes objects no snapshot lists (older than a grace period: a transfer may be running).
 */
import { SNAPSHOT_ID, verifyObjects, withRepositoryLock, type KeylessVerifyReport, type Store } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { markDamaged, markVerified, removeSnapshots } from './catalogue.js';
import type { HubBackupStore } from './store.js';

/** Objects younger than this are never pruned: a transfer may be running and its snapshot not yet listed. */
export const PRUNE_GRACE_MS = 6 * 3600 * 1000;

function sourceOf(id: string): string {
  return id.replace(/^\d{8}T\d{6}Z-/, '').replace(/-[a-z0-9]+$/, '');
}

/** Exclusive on the site's folder: a transfer's commit (Store.writeEnvelope, shared) waits, then checks its base and objects. */
export async function applyRetention(db: Db, hub: HubBackupStore, siteId: string, keepLast: number, graceMs = PRUNE_GRACE_MS): Promise<{ forgotten: string[]; prunedObjects: number }> {
  const store = hub.store(siteId);
  return withRepositoryLock(store.dir, 'exclusive', { purpose: 'hub retention' }, () => retain(db, store, siteId, keepLast, graceMs));
}

async function retain(db: Db, store: Store, siteId: string, keepLast: number, graceMs: number): Promise<{ forgotten: string[]; prunedObjects: number }> {
  const ids = (await store.snapshotIds()).filter((id) => SNAPSHOT_ID.test(id));
  const envs = new Map(await Promise.all(ids.map(async (id) => [id, await store.readEnvelope(id)] as const)));
  const keep = new Set<string>();
  const bySource = new Map<string, string[]>();
  for (const id of ids) bySource.set(sourceOf(id), [...(bySource.get(sourceOf(id)) ?? []), id]);
  for (const list of bySource.values()) for (const id of list.slice(-keepLast)) for (let at: string | null = id; at && !keep.has(at); at = envs.get(at)?.base ?? null) keep.add(at);
  const forgotten = ids.filter((id) => !keep.has(id)).reverse(); // newest first: deltas before their bases
  for (const id of forgotten) await store.removeSnapshot(id);
  removeSnapshots(db, siteId, forgotten);
  const used = new Set([...keep].flatMap((id) => envs.get(id)!.objects));
  let prunedObjects = 0;
  for (const o of await store.listObjects()) {
    if (used.has(o.name) || Date.now() - o.mtimeMs < graceMs) continue;
    await store.removeObject(o.name);
    prunedObjects++;
  }
  return { forgotten, prunedObjects };
}

/**
 * Every object's SHA-256 against its name (no key). Snapshots without a problem get verified_at =
 * now; the others (and every delta built on them) get what is wrong in `damaged`.
 */
export async function verifySite(db: Db, hub: HubBackupStore, siteId: string): Promise<KeylessVerifyReport & { damaged: Map<string, string> }> {
  const store = hub.store(siteId);
  const report = await verifyObjects(store.dir);
  const ids = await store.snapshotIds();
  const damaged = new Map<string, string>();
  const add = (id: string, why: string) => damaged.set(id, damaged.has(id) ? `${damaged.get(id)}; ${why}` : why);
  for (const p of report.problems) {
    const users = /used by (.*)$/.exec(p.detail)?.[1]?.split(', ').filter(Boolean);
    if (users) for (const id of users) add(id, `object ${p.item}: ${p.kind}`);
    else add(p.item, `${p.kind}: ${p.detail}`);
  }
  const bases = new Map<string, string | null>();
  for (const id of ids) bases.set(id, await store.readEnvelope(id).then((e) => e.base, () => null));
  for (const id of ids) {
    for (let at = bases.get(id) ?? null; at; at = bases.get(at) ?? null) {
      if (damaged.has(at) && at !== id) {
        if (!damaged.has(id)) add(id, `its base ${at} is damaged`);
        break;
      }
    }
  }
  markVerified(db, siteId, ids.filter((id) => !damaged.has(id)), new Date().toISOString());
  markDamaged(db, siteId, damaged);
  return { ...report, damaged };
}
