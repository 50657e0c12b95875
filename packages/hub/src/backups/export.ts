/**
 * Export of one snapshot from the hub's off-site store: a self-contained repository folder (or
 * the same as a tar stream) holding just that snapshot's chain, every object re-checked against
 * its name on the way out. With the key (an admin, or the site's own credentials) the folder also
 * holds `backup.key`; otherwise README.txt says how to get the recovery code.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RepositoryError, Store, tarEntry, TAR_END, verifyObjects, writeFileAtomic, type SnapshotEnvelope } from '@sentinela/shared';
import type { HubBackupStore } from './store.js';

export interface ExportProgress {
  phase: string;
  doneBytes: number;
  totalBytes: number;
  doneItems: number;
  totalItems: number;
}

/** The snapshot (`latest`: the newest) and its bases, oldest base first. */
export async function exportChain(store: Store, snapshot: string): Promise<SnapshotEnvelope[]> {
  let id = snapshot;
  if (snapshot === 'latest') {
    const ids = await store.snapshotIds();
    if (ids.length === 0) throw new RepositoryError(`the hub holds no snapshot in ${store.dir}`, 'missing-snapshot');
    id = ids[ids.length - 1]!;
  }
  const chain: SnapshotEnvelope[] = [];
  for (let at: string | null = id; at; ) {
    const env: SnapshotEnvelope = await store.readEnvelope(at);
    chain.unshift(env);
    at = env.base;
  }
  return chain;
}

function keyFile(key: Buffer, keyId: string): string {
  return JSON.stringify({ v: 1, key: key.toString('base64'), keyId, created: new Date().toISOString(), note: 'exported from the hub escrow' }, null, 2) + '\n';
}

export function readme(siteId: string, snapshot: string, withKey: boolean): string {
  return [
    `Sentinela backup export: site ${siteId}, snapshot ${snapshot}`,
    '',
    'This folder is a Sentinela repository (docs/repository.md) holding this snapshot and the bases it needs.',
    withKey
      ? 'backup.key is the site key (keep it secret, mode 0600). Restore with:\n  sentinela-agent restore --from THIS_FOLDER --snapshot ' + snapshot + ' --to-file FILE (or --to-database NAME)'
      : 'The site key is not included. An admin prints it from the hub escrow with:\n  sentinela-hub backups export --config hub.yaml --site ' + siteId + ' --snapshot ' + snapshot + ' --with-key --out DIR\nor restore with the site recovery code:\n  sentinela-agent restore --from THIS_FOLDER --snapshot ' + snapshot + ' --recovery-code CODE --to-file FILE',
    '',
  ].join('\n');
}

export interface ExportOptions {
  siteId: string;
  snapshot: string;
  /** The unsealed site key, to include as backup.key. */
  key?: { key: Buffer; keyId: string } | null;
  onProgress?: (p: ExportProgress) => void;
}

/**
 * Every object of the chain read and checked before the first byte goes out: a damaged snapshot is
 * refused whole (a clear error, no folder, no HTTP 200 cut short) instead of becoming a corrupt export.
 */
async function checkChain(store: Store, siteId: string, chain: SnapshotEnvelope[]): Promise<void> {
  const report = await verifyObjects(store.dir, { snapshots: chain.map((e) => e.id) });
  if (report.problems.length === 0) return;
  const id = chain[chain.length - 1]!.id;
  const what = report.problems.map((p) => `${p.item} (${p.kind})`).join(', ');
  throw new RepositoryError(`snapshot ${id} of site ${siteId} is damaged in the hub's store and cannot be exported: ${what}`, 'damaged-snapshot');
}

async function plan(hub: HubBackupStore, o: ExportOptions) {
  const store = hub.store(o.siteId);
  const meta = await store.readMeta();
  const chain = await exportChain(store, o.snapshot);
  await checkChain(store, o.siteId, chain);
  const names = [...new Set(chain.flatMap((e) => e.objects))];
  const sizes = new Map((await store.listObjects()).map((x) => [x.name, x.size]));
  const totalBytes = names.reduce((n, x) => n + (sizes.get(x) ?? 0), 0);
  return { store, meta, chain, names, totalBytes, id: chain[chain.length - 1]!.id };
}

/** The plan of an export, checked (throws RepositoryError `damaged-snapshot` before anything is written). */
export function planExport(hub: HubBackupStore, o: ExportOptions): Promise<ExportPlan> {
  return plan(hub, o);
}
export type ExportPlan = Awaited<ReturnType<typeof plan>>;

/** Writes the export into `outDir` (created; an existing repository there must be the same site's). */
export async function exportToDir(hub: HubBackupStore, outDir: string, o: ExportOptions): Promise<{ snapshot: string; objects: number; bytes: number }> {
  const p = await plan(hub, o);
  await mkdir(outDir, { recursive: true });
  const to = new Store(outDir);
  await to.readMeta().catch(() => to.create({ site: p.meta.site, keyId: p.meta.keyId }));
  let done = 0;
  let bytes = 0;
  for (const name of p.names) {
    const data = await p.store.get(name); // hash-checked: damage never leaves the hub
    await to.put(name, data, { verify: true });
    bytes += data.length;
    o.onProgress?.({ phase: 'exporting objects', doneBytes: bytes, totalBytes: p.totalBytes, doneItems: ++done, totalItems: p.names.length });
  }
  for (const env of p.chain) await to.writeEnvelope(env);
  if (o.key) writeFileAtomic(join(outDir, 'backup.key'), keyFile(o.key.key, o.key.keyId), 0o600);
  writeFileAtomic(join(outDir, 'README.txt'), readme(o.siteId, p.id, !!o.key), 0o644);
  return { snapshot: p.id, objects: p.names.length, bytes };
}

/** The same export as a tar stream (the API): objects first, snapshot files last, like every copy. */
export async function* exportTar(hub: HubBackupStore, o: ExportOptions, planned?: ExportPlan): AsyncGenerator<Buffer> {
  const p = planned ?? (await plan(hub, o));
  yield* tarEntry('sentinela-repo.json', Buffer.from(JSON.stringify({ ...p.meta, id: p.meta.id }, null, 2) + '\n'));
  let done = 0;
  let bytes = 0;
  for (const name of p.names) {
    const data = await p.store.get(name);
    yield* tarEntry(`objects/${name.slice(0, 2)}/${name}`, data, 0o444);
    bytes += data.length;
    o.onProgress?.({ phase: 'exporting objects', doneBytes: bytes, totalBytes: p.totalBytes, doneItems: ++done, totalItems: p.names.length });
  }
  for (const env of p.chain) yield* tarEntry(`snapshots/${env.id}`, Buffer.from(JSON.stringify(env) + '\n'));
  if (o.key) yield* tarEntry('backup.key', Buffer.from(keyFile(o.key.key, o.key.keyId)), 0o600);
  yield* tarEntry('README.txt', Buffer.from(readme(o.siteId, p.id, !!o.key)));
  yield TAR_END;
}
