/**
 * Retention and keyless verify of the hub's copies. Retention keeps, per site and source, the
 * newest `keepLast` snapshots and every base a kept delta needs (deltas go before their bases),
 * then prunes objects no snapshot lists (older than a grace period: a transfer may be running).
 */
import { SNAPSHOT_ID, verifyObjects, type KeylessVerifyReport } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { markVerified, removeSnapshots } from './catalogue.js';
import type { HubBackupStore } from './store.js';

const GRACE_MS = 6 * 3600 * 1000;

function sourceOf(id: string): string {
  return id.replace(/^\d{8}T\d{6}Z-/, '').replace(/-[a-z0-9]+$/, '');
}

export async function applyRetention(db: Db, hub: HubBackupStore, siteId: string, keepLast: number, graceMs = GRACE_MS): Promise<{ forgotten: string[]; prunedObjects: number }> {
  const store = hub.store(siteId);
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

/** Every object's SHA-256 against its name (no key); snapshots without a problem get verified_at = now. */
export async function verifySite(db: Db, hub: HubBackupStore, siteId: string): Promise<KeylessVerifyReport> {
  const store = hub.store(siteId);
  const report = await verifyObjects(store.dir);
  const bad = new Set(report.problems.flatMap((p) => [p.item, ...(/used by (.*)$/.exec(p.detail)?.[1]?.split(', ') ?? [])]));
  markVerified(db, siteId, (await store.snapshotIds()).filter((id) => !bad.has(id)), new Date().toISOString());
  return report;
}
