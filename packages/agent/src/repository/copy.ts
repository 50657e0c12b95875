/**
 * Keyless copy between locations (spool → USB disk, → secondary server, → hub) and keyless
 * verification. Objects first, each re-read and hash-checked at the target; a snapshot's file
 * last, and only after its base's. So an interruption at any point leaves nothing that looks
 * complete and is not, and running the copy again resumes it (present objects are skipped).
 */
import type { CopyReport, OnProgress } from './api.js';
import { RepositoryError } from './errors.js';
import { Store, type RepoMeta, type SnapshotEnvelope } from './store.js';

export interface CopyOptions {
  /** Only these snapshots (and the bases they need); default: all. */
  snapshots?: string[];
  onProgress?: OnProgress;
  signal?: AbortSignal;
}

export interface CopyResult extends CopyReport {
  /** Snapshots left out because the source's copy of them is damaged (the rest is still copied). */
  failed: Array<{ snapshot: string; reason: string }>;
}

/** Opens the target, creating it for the same site and key when absent; refuses another site's. */
export async function openTarget(from: RepoMeta, toDir: string): Promise<Store> {
  const to = new Store(toDir);
  let meta: RepoMeta;
  try {
    meta = await to.readMeta();
  } catch (err) {
    if (!(err instanceof RepositoryError) || err.code !== 'not-a-repository' || !/no sentinela-repo\.json/.test(err.message)) throw err;
    await to.create({ site: from.site, keyId: from.keyId });
    return to;
  }
  if (meta.keyId !== from.keyId || meta.site !== from.site)
    throw new RepositoryError(`${toDir} holds the backups of site "${meta.site}" under another key; it cannot receive site "${from.site}"'s snapshots`, 'wrong-site');
  return to;
}

export async function copySnapshots(fromDir: string, toDir: string, opts: CopyOptions = {}): Promise<CopyResult> {
  const from = new Store(fromDir);
  const to = await openTarget(await from.readMeta(), toDir);
  const report: CopyResult = { snapshotsCopied: [], objectsCopied: 0, objectsSkipped: 0, bytesCopied: 0, failed: [] };
  const broken = new Set<string>();
  const envelopes = new Map<string, SnapshotEnvelope>();
  /** Snapshot files that do not read: each leaves out its own snapshot (and deltas on it), never the others. */
  const damaged = new Map<string, string>();
  for (const id of await from.snapshotIds()) {
    try {
      envelopes.set(id, await from.readEnvelope(id));
    } catch (err) {
      if (!(err instanceof RepositoryError) || err.code !== 'bad-manifest') throw err;
      damaged.set(id, err.message);
    }
  }

  // Bases before deltas; only what the target lacks.
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = async (id: string, wantedBy: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    const env = envelopes.get(id);
    if (!env && wantedBy === 'asked for' && !damaged.has(id)) throw new RepositoryError(`snapshot ${id} (${wantedBy}) is not in ${fromDir}`, 'missing-snapshot');
    if (!env) {
      // A damaged snapshot file, or a base that is not there: the snapshots that need it fail, the others are copied.
      if (await to.hasSnapshot(id)) return;
      broken.add(id);
      report.failed.push({ snapshot: id, reason: damaged.get(id) ?? `snapshot ${id} (${wantedBy}) is not in ${fromDir}` });
      return;
    }
    if (env.base) await visit(env.base, `the base of ${id}`);
    order.push(id);
  };
  for (const id of opts.snapshots ?? [...envelopes.keys(), ...damaged.keys()].sort()) await visit(id, 'asked for');
  const todo: SnapshotEnvelope[] = [];
  for (const id of order) if (!(await to.hasSnapshot(id))) todo.push(envelopes.get(id)!);

  const totalItems = todo.reduce((n, e) => n + e.objects.length, 0);
  let doneItems = 0;
  for (const env of todo) {
    if (env.base && broken.has(env.base)) {
      broken.add(env.id);
      report.failed.push({ snapshot: env.id, reason: `its base ${env.base} could not be copied` });
      continue;
    }
    try {
      for (const name of env.objects) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('copy aborted');
        doneItems++;
        if (await to.has(name)) {
          report.objectsSkipped++;
          continue;
        }
        const bytes = await from.get(name); // hash-checked: damage is never propagated
        report.bytesCopied += await to.put(name, bytes, { verify: true });
        report.objectsCopied++;
        opts.onProgress?.({ phase: 'copying objects', doneBytes: report.bytesCopied, doneItems, totalItems });
      }
    } catch (err) {
      const code = (err as RepositoryError).code;
      if (code !== 'corrupt-object' && code !== 'missing-object') throw err;
      broken.add(env.id);
      report.failed.push({ snapshot: env.id, reason: (err as Error).message });
      continue;
    }
    await to.writeEnvelope(env);
    report.snapshotsCopied.push(env.id);
  }
  opts.onProgress?.({ phase: 'copied', doneBytes: report.bytesCopied, doneItems, totalItems });
  return report;
}

/** Structure and every object's hash, without the key: moved to @sentinela/shared so the hub verifies with the same code. */
export { verifyObjects } from '@sentinela/shared';
