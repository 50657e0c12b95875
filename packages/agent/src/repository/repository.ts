/** The repository opened with the site's key (api.ts): backup, list, read, verify, forget, prune. */
import { Readable } from 'node:stream';
import { existsSync } from 'node:fs';
import type { SnapshotManifest } from '@sentinela/shared';
import type { Source } from '../sources/source.js';
import type { BackupOptions, DamagedSnapshot, ForgetResult, OnProgress, PruneOptions, PruneResult, Repository, RetentionPolicy, VerifyProblem, VerifyReport } from './api.js';
import { RepositoryError } from './errors.js';
import type { MasterKey, Subkeys } from './keys.js';
import { byTime, openManifest } from './manifests.js';
import { AAD_OBJECT, openObjectPieces } from './objects.js';
import { READ_AHEAD } from './object-io.js';
import type { ChainContext } from './reader.js';
import { selectKept } from './retention.js';
import { sha256, Store, type RepoMeta } from './store.js';
import { withRepositoryLock, type LockInfo } from '@sentinela/shared';
import { join } from 'node:path';

/** Creates the repository (or opens it when it already exists for this site and key). */
export async function initRepository(dir: string, opts: { siteId: string; key: MasterKey }): Promise<SentinelaRepository> {
  const store = new Store(dir);
  if (existsSync(join(dir, 'sentinela-repo.json'))) {
    const repo = await openRepository(dir, opts.key);
    if (repo.siteId !== opts.siteId)
      throw new RepositoryError(`${dir} already holds the backups of site "${repo.siteId}", not "${opts.siteId}"`, 'wrong-site');
    return repo;
  }
  const keys = opts.key.subkeys();
  const meta = await store.create({ site: opts.siteId, keyId: keys.keyId });
  return new SentinelaRepository(store, meta, keys);
}

export async function openRepository(dir: string, key: MasterKey): Promise<SentinelaRepository> {
  const store = new Store(dir);
  const meta = await store.readMeta();
  const keys = key.subkeys();
  if (meta.keyId !== keys.keyId)
    throw new RepositoryError(
      `the repository at ${dir} belongs to site "${meta.site}" and this key does not open it (key id ${keys.keyId.slice(0, 8)}…, the repository's is ${meta.keyId.slice(0, 8)}…): use that site's key or its recovery code`,
      'wrong-key',
    );
  return new SentinelaRepository(store, meta, keys);
}

export class SentinelaRepository implements Repository {
  readonly dir: string;
  readonly id: string;
  readonly siteId: string;

  constructor(
    readonly store: Store,
    readonly meta: RepoMeta,
    private readonly keys: Subkeys,
  ) {
    this.dir = store.dir;
    this.id = meta.id;
    this.siteId = meta.site;
  }

  async manifest(id: string): Promise<SnapshotManifest> {
    return openManifest(this.keys, await this.store.readEnvelope(id));
  }

  private chain(onObject?: ChainContext['onObject']): ChainContext {
    return { store: this.store, keys: this.keys, manifest: (id) => this.manifest(id), ...(onObject ? { onObject } : {}) };
  }

  /** Under the shared lock from start to commit: a forget or prune in another process waits for it. */
  async backup(source: Source, opts: BackupOptions = {}): Promise<SnapshotManifest> {
    return withRepositoryLock(this.dir, 'shared', { purpose: `backup of ${source.name}`, ...(opts.onLockWait ? { onWait: opts.onLockWait } : {}) }, () =>
      // The delta encoders and readers are loaded by the first backup or read, not by the resting agent.
      import('./backup.js').then(({ runBackup }) => runBackup({ ...this.chain(), site: this.siteId, history: (name) => this.snapshots({ source: name }) }, source, opts)),
    );
  }

  /** Unreadable manifests are left out here (verify names them), so one bad file never stops backups. */
  async snapshots(filter: { source?: string } = {}): Promise<SnapshotManifest[]> {
    const out: SnapshotManifest[] = [];
    for (const id of await this.store.snapshotIds()) {
      const m = await this.manifest(id).catch(() => null);
      if (m && (!filter.source || m.source === filter.source)) out.push(m);
    }
    return out.sort(byTime);
  }

  read(snapshotId: string, opts: { onProgress?: OnProgress; onObject?: ChainContext['onObject'] } = {}): Readable {
    const self = this;
    async function* content(): AsyncGenerator<Buffer> {
      const m = await self.manifest(snapshotId);
      const { readContent } = await import('./reader.js');
      const hash = sha256();
      let done = 0;
      let lastReport = 0;
      for await (const buf of readContent(self.chain(opts.onObject), m)) {
        hash.update(buf);
        done += buf.length;
        if (opts.onProgress && done - lastReport >= 8 * 1024 * 1024) {
          opts.onProgress({ phase: 'reading', doneBytes: done, totalBytes: m.content.bytes });
          lastReport = done;
        }
        yield buf;
      }
      const got = hash.digest('hex');
      if (got !== m.content.sha256 || done !== m.content.bytes)
        throw new RepositoryError(`snapshot ${snapshotId} reads back different from what was backed up (${done} bytes, sha256 ${got.slice(0, 12)}…; expected ${m.content.bytes} bytes, ${m.content.sha256.slice(0, 12)}…)`, 'content-mismatch');
      opts.onProgress?.({ phase: 'reading', doneBytes: done, totalBytes: m.content.bytes });
    }
    return Readable.from(content(), { objectMode: false });
  }

  async damagedSnapshots(): Promise<DamagedSnapshot[]> {
    const ids = await this.store.snapshotIds();
    const damaged: Array<{ id: string; detail: string }> = [];
    for (const id of ids) await this.manifest(id).catch((err: unknown) => damaged.push({ id, detail: (err as Error).message }));
    if (!damaged.length) return [];
    const children = await deltasByBase(this.store, ids);
    return damaged.map((d) => ({ ...d, dependents: dependentsOf(children, d.id) }));
  }

  async verify(opts: { readData: boolean; onProgress?: OnProgress }): Promise<VerifyReport> {
    const problems: VerifyProblem[] = [];
    const manifests: SnapshotManifest[] = [];
    const ids = await this.store.snapshotIds();
    const children = await deltasByBase(this.store, ids);
    for (const id of ids) {
      try {
        const m = await this.manifest(id);
        if (m.site !== this.siteId)
          // Either this snapshot or the repository's description is wrong: name both, a technician cannot tell which from here.
          problems.push({ kind: 'bad-manifest', item: id, detail: `belongs to site "${m.site}", but ${join(this.dir, 'sentinela-repo.json')} says the repository is site "${this.siteId}"` });
        manifests.push(m);
      } catch (err) {
        const dependents = dependentsOf(children, id);
        const needed = dependents.length ? `; the deltas ${dependents.join(', ')} depend on it and cannot be restored` : '';
        problems.push({ kind: 'bad-manifest', item: id, detail: `${(err as Error).message}${needed}` });
      }
    }
    const known = new Set(ids);
    for (const m of manifests) if (m.base && !known.has(m.base)) problems.push({ kind: 'missing-base', item: m.id, detail: `its base ${m.base} is not in the repository` });
    const names = [...new Set(manifests.flatMap((m) => m.objects))];
    let bytesRead = 0;
    let done = 0;
    if (!opts.readData) {
      for (const name of names) {
        opts.onProgress?.({ phase: 'checking objects', doneBytes: 0, doneItems: done++, totalItems: names.length });
        if (!(await this.store.has(name))) problems.push({ kind: 'missing-object', item: name, detail: `referenced by ${usedBy(manifests, name)}` });
      }
    } else {
      // One pass over the data: the newest snapshot of each source is rebuilt through its whole chain
      // (the restore path, end to end, content SHA-256 included), and every object read on the way is
      // checked by that; only the objects no rebuild used are then read on their own, several at once.
      const checked = new Set<string>();
      const rebuildProblems: VerifyProblem[] = [];
      const newest = new Map<string, SnapshotManifest>();
      for (const m of [...manifests].sort(byTime)) if (!m.base || known.has(m.base)) newest.set(m.source, m);
      const onObject = (name: string, storedBytes: number) => {
        if (checked.has(name)) return;
        checked.add(name);
        bytesRead += storedBytes;
        opts.onProgress?.({ phase: 'reading objects', doneBytes: bytesRead, doneItems: ++done, totalItems: names.length });
      };
      for (const m of newest.values()) {
        opts.onProgress?.({ phase: `rebuilding ${m.id}`, doneBytes: bytesRead, doneItems: done, totalItems: names.length });
        try {
          for await (const _ of this.read(m.id, { onObject })) void _;
        } catch (err) {
          rebuildProblems.push({ kind: err instanceof RepositoryError ? err.code : 'content-mismatch', item: m.id, detail: (err as Error).message });
        }
      }
      const rest = names.filter((n) => !checked.has(n));
      const objectProblems: VerifyProblem[] = [];
      await eachAtOnce(rest, READ_AHEAD, async (name) => {
        try {
          const stored = await this.store.get(name);
          await openObjectPieces(this.keys, stored, AAD_OBJECT, `object ${name}`);
          onObject(name, stored.length);
        } catch (err) {
          const kind = err instanceof RepositoryError ? err.code : 'io-error';
          objectProblems.push({ kind, item: name, detail: `${(err as Error).message}; used by ${usedBy(manifests, name)}` });
        }
      });
      // A damaged object is named as such; the rebuild that tripped on it adds nothing more.
      objectProblems.sort((x, y) => names.indexOf(x.item) - names.indexOf(y.item));
      problems.push(...objectProblems);
      if (problems.length === 0) problems.push(...rebuildProblems);
    }
    const listed = new Set<string>();
    for (const id of ids) for (const o of (await this.store.readEnvelope(id).catch(() => null))?.objects ?? []) listed.add(o);
    const unreferenced = { objects: 0, bytes: 0 };
    for (const o of await this.store.listObjects()) if (!listed.has(o.name)) (unreferenced.objects++, (unreferenced.bytes += o.size));
    const temps = await this.store.tempFiles();
    const tempFiles = { files: temps.length, bytes: temps.reduce((s, f) => s + f.size, 0) };
    return { snapshots: manifests.length, objects: names.length, bytesRead, problems, unreferenced, tempFiles };
  }

  /** Exclusive (unless a dry run): no backup in another process may be building a delta on what it removes. */
  async forget(policy: RetentionPolicy, opts: { dryRun?: boolean; onLockWait?: (holders: LockInfo[]) => void } = {}): Promise<ForgetResult> {
    const run = async (): Promise<ForgetResult> => {
      const all = await this.snapshots();
      const keep = selectKept(all, policy);
      const removed = all.filter((m) => !keep.has(m.id)).map((m) => m.id);
      // Deltas first, bases after: an interruption never leaves a delta without its base.
      if (!opts.dryRun) for (const id of [...removed].reverse()) await this.store.removeSnapshot(id);
      return { kept: all.filter((m) => keep.has(m.id)).map((m) => m.id), removed };
    };
    return opts.dryRun ? run() : withRepositoryLock(this.dir, 'exclusive', { purpose: 'forget', ...(opts.onLockWait ? { onWait: opts.onLockWait } : {}) }, run);
  }

  async prune(opts: PruneOptions = {}): Promise<PruneResult> {
    return pruneStore(this.store, opts);
  }
}

function usedBy(manifests: SnapshotManifest[], name: string): string {
  const ids = manifests.filter((m) => m.objects.includes(name)).map((m) => m.id);
  return ids.length ? `snapshot ${ids.join(', ')}` : 'no snapshot';
}

/**
 * Deletes objects no snapshot file references. Keyless (envelopes list their objects). Objects
 * younger than the grace period are spared: they may belong to a backup or copy still running.
 */
export async function pruneStore(store: Store, opts: PruneOptions = {}): Promise<PruneResult> {
  if (opts.dryRun) return pruneUnlocked(store, opts);
  return withRepositoryLock(store.dir, 'exclusive', { purpose: 'prune', ...(opts.onLockWait ? { onWait: opts.onLockWait } : {}) }, () => pruneUnlocked(store, opts));
}

async function pruneUnlocked(store: Store, opts: PruneOptions): Promise<PruneResult> {
  const graceMs = opts.graceMs ?? 6 * 3600 * 1000;
  const dryRun = opts.dryRun === true;
  const referenced = new Set<string>();
  for (const id of await store.snapshotIds()) {
    // A damaged envelope stops prune: its objects cannot be told apart from garbage.
    const env = await store.readEnvelope(id);
    for (const o of env.objects) referenced.add(o);
  }
  const result: PruneResult = { removedObjects: 0, freedBytes: 0, removedTempFiles: 0, sparedYoung: 0, dryRun };
  const now = Date.now();
  const objects = (await store.listObjects()).filter((o) => !referenced.has(o.name));
  const temps = await store.tempFiles();
  let done = 0;
  const total = objects.length + temps.length;
  for (const f of [...objects.map((o) => ({ ...o, path: '' })), ...temps.map((t) => ({ ...t, name: '' }))]) {
    if (++done % 100 === 0) opts.onProgress?.({ phase: dryRun ? 'listing what prune would remove' : 'removing unreferenced objects', doneBytes: result.freedBytes, doneItems: done, totalItems: total });
    if (now - f.mtimeMs < graceMs) {
      result.sparedYoung++;
      continue;
    }
    if (!dryRun) await (f.name ? store.removeObject(f.name) : store.removeTempFile(f.path));
    if (f.name) result.removedObjects++;
    else result.removedTempFiles++;
    result.freedBytes += f.size;
  }
  opts.onProgress?.({ phase: 'pruned', doneBytes: result.freedBytes, doneItems: total, totalItems: total });
  return result;
}

/** Base id → ids of the deltas on it, from the plaintext envelopes (an unreadable one names no base). */
async function deltasByBase(store: Store, ids: string[]): Promise<Map<string, string[]>> {
  const children = new Map<string, string[]>();
  for (const id of ids) {
    const base = (await store.readEnvelope(id).catch(() => null))?.base;
    if (base) children.set(base, [...(children.get(base) ?? []), id]);
  }
  return children;
}

/** Every delta whose chain goes through `id`, in chain order (a delta after its base). */
function dependentsOf(children: Map<string, string[]>, id: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>([id]);
  for (const next = [id]; next.length; ) {
    for (const c of children.get(next.shift()!) ?? []) if (!seen.has(c)) (seen.add(c), out.push(c), next.push(c));
  }
  return out;
}

/** Runs `fn` on every item, at most `n` at once. */
async function eachAtOnce<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}
