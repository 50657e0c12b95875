/**
 * Keyless verification of a repository folder: every envelope parses, every base is there, every
 * object's SHA-256 matches its name. The agent checks its copies this way and the hub its off-site
 * store, without ever holding the site's key.
 */
import { RepositoryError, Store, type SnapshotEnvelope } from './store.js';

export interface KeylessProgress {
  phase: string;
  doneBytes: number;
  doneItems?: number;
  totalItems?: number;
}
export interface KeylessProblem {
  kind: string;
  item: string;
  detail: string;
}
export interface KeylessVerifyReport {
  snapshots: number;
  objects: number;
  bytesRead: number;
  problems: KeylessProblem[];
}

export async function verifyObjects(dir: string, opts: { onProgress?: (p: KeylessProgress) => void; snapshots?: string[] } = {}): Promise<KeylessVerifyReport> {
  const store = new Store(dir);
  await store.readMeta();
  const problems: KeylessProblem[] = [];
  const envelopes: SnapshotEnvelope[] = [];
  const ids = (await store.snapshotIds()).filter((id) => !opts.snapshots || opts.snapshots.includes(id));
  for (const id of ids) {
    try {
      envelopes.push(await store.readEnvelope(id));
    } catch (err) {
      problems.push({ kind: 'bad-manifest', item: id, detail: (err as Error).message });
    }
  }
  const known = new Set(await store.snapshotIds());
  for (const e of envelopes) if (e.base && !known.has(e.base)) problems.push({ kind: 'missing-base', item: e.id, detail: `its base ${e.base} is missing` });
  const names = [...new Set(envelopes.flatMap((e) => e.objects))];
  let bytesRead = 0;
  let done = 0;
  for (const name of names) {
    opts.onProgress?.({ phase: 'reading objects', doneBytes: bytesRead, doneItems: done++, totalItems: names.length });
    try {
      bytesRead += (await store.get(name)).length;
    } catch (err) {
      const users = envelopes.filter((e) => e.objects.includes(name)).map((e) => e.id);
      problems.push({ kind: err instanceof RepositoryError ? err.code : 'io-error', item: name, detail: `${(err as Error).message}; used by ${users.join(', ')}` });
    }
  }
  return { snapshots: envelopes.length, objects: names.length, bytesRead, problems };
}
