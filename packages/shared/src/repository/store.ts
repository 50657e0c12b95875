/**
 * The keyless half of the repository format (docs/repository.md): the folder layout, durable
 * writes, object names and envelopes. Shared because the agent (spool, disks, peer) and the hub's
 * off-site store use the very same code; nothing here needs a site's key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, stat, unlink, utimes, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes } from '../runtime/progress.js';
import { RepositoryError, describeFsError } from './errors.js';
import { withRepositoryLock } from './lock.js';

export { RepositoryError, describeFsError, freeSpaceText } from './errors.js';

/** An object's name: the SHA-256 of its stored bytes, lowercase hex. */
export function objectName(stored: Uint8Array): string {
  return createHash('sha256').update(stored).digest('hex');
}

/** Written by this program. 2: deltas of byte operations; version-1 repositories are read, and upgraded by the first snapshot written. */
export const FORMAT_VERSION = 2;
export const READABLE_VERSIONS: readonly number[] = [1, 2];
export const OBJECT_NAME = /^[0-9a-f]{64}$/;
export const SNAPSHOT_ID = /^\d{8}T\d{6}Z-[a-z0-9-]+-[a-z0-9]+$/;

export interface RepoMeta {
  format: 'sentinela-repository';
  version: number;
  id: string;
  site: string;
  /** Public fingerprint of the site key (keys.ts): a location of another site is refused clearly. */
  keyId: string;
  created: string;
}

/** Plaintext part of a snapshot file: enough for a keyless copy, verify and prune. */
export interface SnapshotEnvelope {
  v: 1;
  id: string;
  site: string;
  base: string | null;
  /** Objects of this snapshot's own stream (not its base's). */
  objects: string[];
  /** The encrypted manifest, base64 (docs/repository.md). */
  manifest: string;
}

export async function writeFileDurable(path: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
  const dir = join(path, '..');
  const tmp = join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
  await syncDir(dir);
}

export async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

export class Store {
  constructor(readonly dir: string) {}

  objectPath(name: string): string {
    return join(this.dir, 'objects', name.slice(0, 2), name);
  }
  snapshotPath(id: string): string {
    return join(this.dir, 'snapshots', id);
  }

  async readMeta(): Promise<RepoMeta> {
    const path = join(this.dir, 'sentinela-repo.json');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new RepositoryError(`${this.dir} is not a Sentinela backup repository (no sentinela-repo.json)`, 'not-a-repository');
      throw describeFsError(err, `reading ${path}`);
    }
    let meta: RepoMeta;
    try {
      meta = JSON.parse(text) as RepoMeta;
    } catch {
      throw new RepositoryError(`${path} is damaged (not JSON)`, 'not-a-repository');
    }
    if (meta === null || typeof meta !== 'object' || meta.format !== 'sentinela-repository' || typeof meta.site !== 'string' || typeof meta.keyId !== 'string')
      throw new RepositoryError(`${path} is not a Sentinela repository description`, 'not-a-repository');
    if (!READABLE_VERSIONS.includes(meta.version))
      throw new RepositoryError(`${this.dir} has format version ${meta.version}; this program reads versions ${READABLE_VERSIONS.join(' and ')}`, 'not-a-repository');
    return meta;
  }

  async create(meta: Omit<RepoMeta, 'format' | 'version' | 'id' | 'created'>): Promise<RepoMeta> {
    const full: RepoMeta = { format: 'sentinela-repository', version: FORMAT_VERSION, id: randomBytes(16).toString('hex'), ...meta, created: new Date().toISOString() };
    try {
      await mkdir(join(this.dir, 'objects'), { recursive: true });
      await mkdir(join(this.dir, 'snapshots'), { recursive: true });
      await writeFileDurable(join(this.dir, 'sentinela-repo.json'), JSON.stringify(full, null, 2) + '\n');
    } catch (err) {
      throw describeFsError(err, `creating a repository in ${this.dir}`, this.dir);
    }
    return full;
  }

  async has(name: string): Promise<boolean> {
    try {
      await stat(this.objectPath(name));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Writes an object unless present; returns the bytes added (0 when deduplicated). An existing
   * object gets its time refreshed so that a concurrent prune's grace period spares it.
   * `verify` re-reads the written file and checks its hash (copies to disks do).
   */
  async put(name: string, stored: Uint8Array, opts: { verify?: boolean } = {}): Promise<number> {
    const path = this.objectPath(name);
    if (await this.has(name)) {
      const now = new Date();
      await utimes(path, now, now).catch(() => {});
      return 0;
    }
    try {
      // Only objects/<aa>: never recreate the repository itself, which would fill the empty
      // mount point of an unplugged disk on the root filesystem (ENOENT instead).
      await mkdir(join(path, '..')).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      await writeFileDurable(path, stored, 0o444);
      if (opts.verify) {
        const back = await readFile(path);
        if (objectName(back) !== name) {
          await unlink(path).catch(() => {});
          throw new RepositoryError(`object ${name} reads back different from what was written to ${this.dir}: the disk is failing`, 'io-error');
        }
      }
    } catch (err) {
      throw describeFsError(err, `writing object ${name} (${formatBytes(stored.length)}) to ${this.dir}`, this.dir);
    }
    return stored.length;
  }

  /** Reads an object and checks it against its name; no key needed. */
  async get(name: string): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.objectPath(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RepositoryError(`object ${name} is missing from ${this.dir}`, 'missing-object');
      throw describeFsError(err, `reading object ${name} from ${this.dir}`);
    }
    if (objectName(bytes) !== name) throw new RepositoryError(`object ${name} in ${this.dir} is corrupt (its SHA-256 does not match its name)`, 'corrupt-object');
    return bytes;
  }

  /** Every object name present, with its size and time (prune, keyless verify). */
  async listObjects(): Promise<Array<{ name: string; size: number; mtimeMs: number }>> {
    const out: Array<{ name: string; size: number; mtimeMs: number }> = [];
    const root = join(this.dir, 'objects');
    for (const sub of await readdir(root).catch(() => [] as string[])) {
      for (const name of await readdir(join(root, sub)).catch(() => [] as string[])) {
        const s = await stat(join(root, sub, name)).catch(() => null);
        if (s) out.push({ name, size: s.size, mtimeMs: s.mtimeMs });
      }
    }
    return out;
  }

  async removeObject(name: string): Promise<void> {
    await unlink(this.objectPath(name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Leftover `.tmp-*` files of interrupted writes, anywhere in the repository (verify, prune). */
  async tempFiles(): Promise<Array<{ path: string; size: number; mtimeMs: number }>> {
    const out: Array<{ path: string; size: number; mtimeMs: number }> = [];
    const dirs = [this.dir, join(this.dir, 'snapshots'), join(this.dir, 'objects')];
    for (const sub of await readdir(join(this.dir, 'objects')).catch(() => [] as string[])) dirs.push(join(this.dir, 'objects', sub));
    for (const d of dirs) {
      for (const f of await readdir(d).catch(() => [] as string[])) {
        if (!f.startsWith('.tmp-')) continue;
        const s = await stat(join(d, f)).catch(() => null);
        if (s) out.push({ path: join(d, f), size: s.size, mtimeMs: s.mtimeMs });
      }
    }
    return out;
  }

  async removeTempFile(path: string): Promise<void> {
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async snapshotIds(): Promise<string[]> {
    const names = await readdir(join(this.dir, 'snapshots')).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw describeFsError(err, `listing ${this.dir}/snapshots`);
    });
    return names.filter((n) => SNAPSHOT_ID.test(n)).sort();
  }

  async hasSnapshot(id: string): Promise<boolean> {
    return stat(this.snapshotPath(id)).then(
      () => true,
      () => false,
    );
  }

  async readEnvelope(id: string): Promise<SnapshotEnvelope> {
    let text: string;
    try {
      text = await readFile(this.snapshotPath(id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RepositoryError(`snapshot ${id} is not in ${this.dir}`, 'missing-snapshot');
      throw describeFsError(err, `reading snapshot ${id}`);
    }
    try {
      const env = JSON.parse(text) as SnapshotEnvelope;
      // typeof first: RegExp.test would take ["<hash>"] for "<hash>".
      if (env.v !== 1 || env.id !== id || !Array.isArray(env.objects) || !env.objects.every((o) => typeof o === 'string' && OBJECT_NAME.test(o)) || typeof env.manifest !== 'string')
        throw new Error('fields missing or wrong');
      // The base is followed by copy, verify and prune before any manifest is decrypted: it must be an id or null.
      if (env.base !== null && !(typeof env.base === 'string' && SNAPSHOT_ID.test(env.base))) throw new Error('its base is not a snapshot id');
      return env;
    } catch (err) {
      throw new RepositoryError(`snapshot file ${this.snapshotPath(id)} is damaged (${(err as Error).message})`, 'bad-manifest');
    }
  }

  /**
   * Commits a snapshot, under the repository's shared lock: its base and every object must still be
   * there. A forget or prune in another process (the lock's exclusive side) may have removed an old
   * object this snapshot reused, or its base, since the writer looked; then the commit fails and
   * nothing lists a snapshot that would not restore.
   */
  async writeEnvelope(env: SnapshotEnvelope): Promise<void> {
    try {
      await withRepositoryLock(this.dir, 'shared', { purpose: `commit of snapshot ${env.id}` }, async () => {
        if (env.base && !(await this.hasSnapshot(env.base)))
          throw new RepositoryError(`cannot commit snapshot ${env.id} to ${this.dir}: its base ${env.base} was removed meanwhile (a forget ran); the next backup makes a new one`, 'missing-base');
        for (const name of env.objects) {
          if (!(await this.has(name)))
            throw new RepositoryError(`cannot commit snapshot ${env.id} to ${this.dir}: its object ${name} is not there (a prune ran meanwhile); the next backup stores it again`, 'missing-object');
        }
        await this.upgrade();
        await writeFileDurable(this.snapshotPath(env.id), JSON.stringify(env) + '\n');
      });
    } catch (err) {
      if (err instanceof RepositoryError) throw err;
      throw describeFsError(err, `writing snapshot ${env.id} to ${this.dir}`, this.dir);
    }
  }

  /**
   * Raises a version-1 repository to this format before a snapshot lands in it (any snapshot may be
   * a format-2 delta): an older program then refuses it clearly instead of misreading it.
   */
  private async upgrade(): Promise<void> {
    const meta = await this.readMeta();
    if (meta.version >= FORMAT_VERSION) return;
    await writeFileDurable(join(this.dir, 'sentinela-repo.json'), JSON.stringify({ ...meta, version: FORMAT_VERSION }, null, 2) + '\n');
  }

  async removeSnapshot(id: string): Promise<void> {
    await unlink(this.snapshotPath(id));
    await syncDir(join(this.dir, 'snapshots'));
  }
}

export function sha256(): ReturnType<typeof createHash> {
  return createHash('sha256');
}
