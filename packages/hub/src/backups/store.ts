/**
 * The hub's off-site store: one repository folder per site, in the same format as every other
 * location (`<dataDir>/backups/<siteId>/`), written with the shared keyless Store. Objects arrive
 * in pieces; a partial object waits in `<dataDir>/backups/.partial/<siteId>/<name>` (appended and
 * fsynced piece by piece, so an acked piece survives a restart) until its SHA-256 equals its name.
 */
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { objectName, pieceHash, RepositoryError, Store, syncDir, type RepoMeta, type SnapshotEnvelope, type SyncPieceHeader } from '@sentinela/shared';

export interface PieceResult {
  ok: boolean;
  /** The offset the hub wants next for this object (its total once complete). */
  next: number;
  complete: boolean;
  reason?: string;
}

export class HubBackupStore {
  constructor(readonly dataDir: string) {}

  repoDir(siteId: string): string {
    return join(this.dataDir, 'backups', siteId);
  }
  store(siteId: string): Store {
    return new Store(this.repoDir(siteId));
  }
  private partialDir(siteId: string): string {
    return join(this.dataDir, 'backups', '.partial', siteId);
  }
  private partialPath(siteId: string, name: string): string {
    return join(this.partialDir(siteId), name);
  }

  /** The site's repository, created for its key on the first offer; another key is refused. */
  async openFor(siteId: string, keyId: string): Promise<Store> {
    const store = this.store(siteId);
    let meta: RepoMeta;
    try {
      meta = await store.readMeta();
    } catch (err) {
      if (!(err instanceof RepositoryError) || !/no sentinela-repo\.json/.test(err.message)) throw err;
      await mkdir(this.repoDir(siteId), { recursive: true });
      await store.create({ site: siteId, keyId });
      return store;
    }
    if (meta.keyId !== keyId)
      throw new RepositoryError(`the hub holds site ${siteId}'s backups under key ${meta.keyId}; this offer is under key ${keyId} (a new key needs the old store moved aside by an admin)`, 'wrong-key');
    return store;
  }

  /** Bytes already received of a partial object (0: none). */
  async partialSize(siteId: string, name: string): Promise<number> {
    return stat(this.partialPath(siteId, name)).then(
      (s) => s.size,
      () => 0,
    );
  }

  /**
   * One piece. In order only: a piece at an offset already received is acked again (a resend
   * after a lost receipt) and not written twice; a gap is refused with the offset wanted.
   */
  async acceptPiece(siteId: string, h: SyncPieceHeader, data: Buffer): Promise<PieceResult> {
    const store = this.store(siteId);
    if (await store.has(h.object)) return { ok: true, next: h.total, complete: true };
    const path = this.partialPath(siteId, h.object);
    const have = await this.partialSize(siteId, h.object);
    if (h.offset < have) return { ok: true, next: have, complete: false };
    if (h.offset > have) return { ok: false, next: have, complete: false, reason: `piece at ${h.offset} but the hub has ${have} bytes of the object` };
    if (pieceHash(data) !== h.sha256) return { ok: false, next: have, complete: false, reason: 'piece damaged in transit (SHA-256 differs)' };
    if (h.offset + data.length > h.total) return { ok: false, next: have, complete: false, reason: 'piece goes past the object size' };
    await mkdir(this.partialDir(siteId), { recursive: true });
    const fh = await open(path, 'a');
    try {
      await fh.write(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (have === 0) await syncDir(this.partialDir(siteId));
    const size = have + data.length;
    if (size < h.total) return { ok: true, next: size, complete: false };
    const bytes = await readFile(path);
    if (objectName(bytes) !== h.object) {
      // Every piece matched its hash, so the agent's own copy is damaged or it lied about the name: start over.
      await unlink(path);
      return { ok: false, next: 0, complete: false, reason: 'the whole object does not match its name (SHA-256); it is sent again from the start' };
    }
    await store.put(h.object, bytes, { verify: true });
    await unlink(path).catch(() => {});
    return { ok: true, next: h.total, complete: true };
  }

  /** Objects of `env` the site's store lacks, with the offset each resumes at. */
  async missing(siteId: string, env: SnapshotEnvelope): Promise<Array<{ object: string; offset: number }>> {
    const store = this.store(siteId);
    const out: Array<{ object: string; offset: number }> = [];
    for (const name of new Set(env.objects)) if (!(await store.has(name))) out.push({ object: name, offset: await this.partialSize(siteId, name) });
    return out;
  }

  /** Bytes the site's repository holds now (quota). */
  async usage(siteId: string): Promise<number> {
    return (await this.store(siteId).listObjects()).reduce((n, o) => n + o.size, 0);
  }
}
