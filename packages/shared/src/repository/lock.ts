/**
 * A lock between processes on one repository folder, in the manner of restic's lock files: each
 * holder writes `locks/<name>.json`. Backups take it shared; forget and prune take it exclusive,
 * because a backup running in another process (the CLI beside the service, the hub's `backups
 * maintain` beside the hub) may be writing a delta on the very snapshot forget removes, or objects
 * prune would take for garbage. The service's own RwLock orders work inside one process; this one
 * orders processes.
 *
 * A holder refreshes its file's mtime every REFRESH_MS. A lock is stale, and removed by whoever
 * finds it, when its mtime is older than STALE_MS (a frozen or powered-off holder, another host on
 * a shared disk), or when it was taken on this host by a process that no longer exists.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { describeFsError, RepositoryError } from './errors.js';

export const LOCK_REFRESH_MS = 5 * 60_000;
export const LOCK_STALE_MS = 30 * 60_000;

export type LockMode = 'shared' | 'exclusive';

export interface LockInfo {
  pid: number;
  host: string;
  /** Linux's boot id and the process's start time: after a power cut, or with the pid reused, the holder is known gone. */
  boot?: string;
  started?: string;
  mode: LockMode;
  /** What the holder is doing: "backup of mariadb-openmrs", "prune"… */
  purpose: string;
  since: string;
}

export class RepositoryLockedError extends RepositoryError {
  constructor(
    readonly dir: string,
    readonly holders: LockInfo[],
    waitedMs: number,
  ) {
    super(
      `the repository at ${dir} is locked by ${holders.map(describeHolder).join('; ')} (waited ${Math.round(waitedMs / 1000)} s); ` +
        `try again when it is done, or remove ${join(dir, 'locks')} if that process is gone for good`,
      'locked',
    );
  }
}

export function describeHolder(l: LockInfo): string {
  return `${l.purpose} (${l.mode}, pid ${l.pid} on ${l.host}, since ${l.since})`;
}

export interface LockOptions {
  purpose: string;
  /** How long to wait for the others to finish; 0 = fail at once. Default 10 min. */
  waitMs?: number;
  /** Called once when the lock is busy, with who holds it (a CLI prints it, the service logs it). */
  onWait?: (holders: LockInfo[]) => void;
  /** For tests: the clock and the liveness check. */
  now?: () => number;
}

export class RepositoryLock {
  private refresh: NodeJS.Timeout | null = null;

  private constructor(
    readonly path: string | null,
    readonly info: LockInfo,
  ) {
    if (path) {
      this.refresh = setInterval(() => {
        const t = new Date();
        void utimes(path, t, t).catch(() => undefined);
      }, LOCK_REFRESH_MS);
      this.refresh.unref();
    }
  }

  async release(): Promise<void> {
    if (this.refresh) clearInterval(this.refresh);
    this.refresh = null;
    if (this.path) await unlink(this.path).catch(() => undefined);
  }

  /**
   * Takes the lock, waiting (with back-off) while a conflicting one is held. A shared lock on a folder
   * this process cannot write (a disk mounted read-only, an admin's restore from the backup user's
   * spool) is granted without a file: such a process cannot change the repository either.
   */
  static async acquire(dir: string, mode: LockMode, opts: LockOptions): Promise<RepositoryLock> {
    const now = opts.now ?? Date.now;
    const info: LockInfo = { pid: process.pid, host: hostname(), ...identity(process.pid), mode, purpose: opts.purpose, since: new Date(now()).toISOString() };
    const locksDir = join(dir, 'locks');
    const name = `${mode === 'exclusive' ? 'x' : 's'}-${randomBytes(8).toString('hex')}.json`;
    const path = join(locksDir, name);
    const waitMs = opts.waitMs ?? 10 * 60_000;
    const start = now();
    let told = false;
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(locksDir).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
        });
        await writeFile(path, JSON.stringify(info) + '\n', { flag: 'wx', mode: 0o640 });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // No repository folder yet: nothing in it to protect, and a lock must not create one.
        if (code === 'ENOENT') return new RepositoryLock(null, info);
        if (mode === 'shared' && (code === 'EROFS' || code === 'EACCES' || code === 'EPERM')) return new RepositoryLock(null, info);
        throw describeFsError(err, `taking the ${mode} lock of ${dir} for ${opts.purpose}`, dir);
      }
      // Written first, checked after: two processes that race both see each other, and both back off.
      const others = await liveLocks(locksDir, name, now());
      const conflicting = others.filter((o) => mode === 'exclusive' || o.mode === 'exclusive');
      if (conflicting.length === 0) return new RepositoryLock(path, info);
      await unlink(path).catch(() => undefined);
      const waited = now() - start;
      if (waited >= waitMs) throw new RepositoryLockedError(dir, conflicting, waited);
      if (!told) opts.onWait?.(conflicting);
      told = true;
      // Random back-off so two exclusive takers do not keep colliding.
      const pause = Math.min(5000, 100 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random());
      await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(50, waitMs - waited))));
    }
  }
}

/** The other holders; stale ones are removed on the way (see the module comment). */
async function liveLocks(locksDir: string, own: string, nowMs: number): Promise<LockInfo[]> {
  const out: LockInfo[] = [];
  const host = hostname();
  for (const f of await readdir(locksDir).catch(() => [] as string[])) {
    if (f === own || !f.endsWith('.json')) continue;
    const p = join(locksDir, f);
    const st = await stat(p).catch(() => null);
    if (!st) continue; // released meanwhile
    let info: LockInfo | null = null;
    try {
      const parsed = JSON.parse(await readFile(p, 'utf8')) as Partial<LockInfo>;
      if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && (parsed.mode === 'shared' || parsed.mode === 'exclusive'))
        info = {
          pid: parsed.pid,
          host: parsed.host,
          ...(typeof parsed.boot === 'string' ? { boot: parsed.boot } : {}),
          ...(typeof parsed.started === 'string' ? { started: parsed.started } : {}),
          mode: parsed.mode,
          purpose: String(parsed.purpose ?? 'unknown'),
          since: String(parsed.since ?? ''),
        };
    } catch {
      info = null;
    }
    // A file still being written reads as empty for a moment: judge it by its age only.
    const old = nowMs - st.mtimeMs > LOCK_STALE_MS;
    const dead = info !== null && info.host === host && !holderAlive(info);
    if (old || dead) {
      await unlink(p).catch(() => undefined);
      continue;
    }
    out.push(info ?? { pid: 0, host: '?', mode: f.startsWith('x-') ? 'exclusive' : 'shared', purpose: `unreadable lock file ${f}`, since: st.mtime.toISOString() });
  }
  return out;
}

function holderAlive(info: LockInfo): boolean {
  const now = identity(info.pid);
  // Another boot: every process of the old one is gone (the power cut this kit is about).
  if (info.boot && now.boot && info.boot !== now.boot) return false;
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // The pid is in use, but by a later process (pids are reused, often the same one after a reboot).
  return !(info.started && now.started && info.started !== now.started);
}

let bootId: string | undefined;
/** Linux only; elsewhere both are absent and liveness falls back to the pid and the lock's age. */
function identity(pid: number): { boot?: string; started?: string } {
  try {
    bootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    bootId = '';
  }
  let started: string | undefined;
  try {
    // Field 22 of /proc/PID/stat, after the command name (which may hold spaces and parentheses).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    started = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    started = undefined;
  }
  return { ...(bootId ? { boot: bootId } : {}), ...(started ? { started } : {}) };
}

/** Runs `fn` under the lock and releases it whatever happens. */
export async function withRepositoryLock<T>(dir: string, mode: LockMode, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await RepositoryLock.acquire(dir, mode, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
