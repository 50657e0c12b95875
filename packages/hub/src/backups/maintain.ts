/**
 * Maintenance of the hub's off-site store, per site: retention, then the keyless verify. One
 * path for the timer in `serve` (every backups.verifyEveryHours) and `sentinela-hub backups maintain`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { HubBackupsConfig } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { applyRetention, PRUNE_GRACE_MS, verifySite } from './retention.js';
import type { HubBackupStore } from './store.js';

export interface SiteMaintenance {
  site: string;
  forgotten: string[];
  prunedObjects: number;
  snapshots: number;
  objects: number;
  problems: Array<{ kind: string; item: string; detail: string }>;
  /** Snapshot id → what is wrong with it. */
  damaged: Record<string, string>;
  error?: string;
}

export async function maintainBackups(db: Db, store: HubBackupStore, config: HubBackupsConfig, opts: { graceMs?: number; sites?: string[]; onSite?: (r: SiteMaintenance) => void } = {}): Promise<SiteMaintenance[]> {
  const all = (await readdir(join(store.dataDir, 'backups')).catch(() => [] as string[])).filter((s) => !s.startsWith('.'));
  const out: SiteMaintenance[] = [];
  for (const site of all.filter((s) => !opts.sites || opts.sites.includes(s))) {
    const r: SiteMaintenance = { site, forgotten: [], prunedObjects: 0, snapshots: 0, objects: 0, problems: [], damaged: {} };
    try {
      Object.assign(r, await applyRetention(db, store, site, config.keepLast, opts.graceMs ?? PRUNE_GRACE_MS));
      const v = await verifySite(db, store, site);
      Object.assign(r, { snapshots: v.snapshots, objects: v.objects, problems: v.problems, damaged: Object.fromEntries(v.damaged) });
    } catch (err) {
      r.error = (err as Error).message;
    }
    out.push(r);
    opts.onSite?.(r);
  }
  return out;
}

/** One line per site, for the log and the CLI. */
export function describeMaintenance(r: SiteMaintenance): { level: 'info' | 'error'; msg: string } {
  if (r.error) return { level: 'error', msg: `off-site store of site ${r.site}: maintenance failed: ${r.error}` };
  const kept = `${r.snapshots} snapshots, ${r.objects} objects verified without a key; ${r.forgotten.length} snapshots forgotten, ${r.prunedObjects} objects pruned`;
  const bad = Object.entries(r.damaged);
  if (bad.length === 0) return { level: 'info', msg: `off-site store of site ${r.site}: ${kept}; no problems` };
  const objs = r.problems.map((p) => `${p.item} (${p.kind})`).join(', ');
  return { level: 'error', msg: `off-site store of site ${r.site}: DAMAGED: ${bad.map(([id, why]) => `snapshot ${id} (${why})`).join('; ')}; problems: ${objs}; ${kept}` };
}
