/**
 * Brings one location (a USB disk, the secondary server's folder) up to date with the local spool:
 * copies every snapshot it lacks (objects first, each read back, manifest last: an interruption never
 * leaves a snapshot that looks complete), records what it holds, then applies its retention.
 */
import type { RetentionPolicy, OnProgress, CopyReport } from '../repository/api.js';
import type { MasterKey } from '../repository/keys.js';
import { Store } from '../repository/store.js';
import { RepositoryError } from '../repository/errors.js';
import { copySnapshots, openRepository } from '../backup/repo.js';
import type { BackupState } from '../backup/state.js';

export interface MirrorTarget {
  /** 'usb:<diskId>' or 'peer': the key of what the state records for it. */
  location: string;
  dir: string;
  retention: RetentionPolicy;
  /** Whether the location is still there (the disk plugged in, the share mounted). */
  present(): boolean;
}

export type MirrorOutcome =
  | { status: 'complete'; report: CopyReport; held: string[]; forgotten: string[] }
  | { status: 'unplugged' | 'full' | 'aborted' | 'failed'; error: string; report?: undefined };

/** Spool snapshots the location should get: all, minus those its own retention already removed there. */
export async function snapshotsWanted(spoolDir: string, state: BackupState, location: string): Promise<string[]> {
  const forgotten = new Set(state.held(location, 'forgotten').map((h) => h.snapshotId));
  return (await new Store(spoolDir).snapshotIds()).filter((id) => !forgotten.has(id));
}

/** Snapshots the location lacks (cheap: two folder listings, no key, no object reads). */
export async function snapshotsMissing(spoolDir: string, target: MirrorTarget, state: BackupState): Promise<string[]> {
  const there = new Set(await new Store(target.dir).snapshotIds());
  return (await snapshotsWanted(spoolDir, state, target.location)).filter((id) => !there.has(id));
}

export async function mirror(opts: {
  spoolDir: string;
  target: MirrorTarget;
  key: MasterKey;
  state: BackupState;
  signal?: AbortSignal;
  onProgress?: OnProgress;
}): Promise<MirrorOutcome> {
  const { spoolDir, target, key, state, signal } = opts;
  const now = () => new Date().toISOString();
  try {
    const wanted = await snapshotsWanted(spoolDir, state, target.location);
    // copySnapshots creates the repository when absent: never do that in an empty mount point.
    if (!target.present()) return { status: 'unplugged', error: `${target.dir} is not there any more` };
    // Stop at the first object after the location vanished, rather than write into an empty mount point.
    const gone = new AbortController();
    const both = signal ? AbortSignal.any([signal, gone.signal]) : gone.signal;
    const onProgress: OnProgress = (p) => {
      if (!target.present()) gone.abort(new Error(`${target.dir} went away during the copy`));
      opts.onProgress?.(p);
    };
    const report = await copySnapshots(spoolDir, target.dir, { snapshots: wanted, onProgress, signal: both });
    state.setHeld(target.location, await new Store(target.dir).snapshotIds(), now());
    // Snapshots whose spool copy is damaged are left out (the rest is copied): say so, loudly.
    if (report.failed.length > 0)
      return { status: 'failed', error: report.failed.map((f) => `${f.snapshot}: ${f.reason}`).join('; ') };
    // Retention there, with the key: forget then prune what nothing references any more.
    const repo = await openRepository(target.dir, key);
    const { removed } = await repo.forget(target.retention);
    if (removed.length > 0) {
      state.markForgotten(target.location, removed, now());
      await repo.prune();
    }
    const held = await new Store(target.dir).snapshotIds();
    state.setHeld(target.location, held, now());
    const spoolIds = await new Store(spoolDir).snapshotIds();
    if (spoolIds[0]) state.dropForgottenBefore(target.location, spoolIds[0]);
    return { status: 'complete', report, held, forgotten: removed };
  } catch (err) {
    // Whatever was fully copied before the failure is really there: record it.
    if (target.present()) await new Store(target.dir).snapshotIds().then((ids) => state.setHeld(target.location, ids, now()), () => {});
    return { status: classify(err, target, signal), error: (err as Error).message };
  }
}

function classify(err: unknown, target: MirrorTarget, signal?: AbortSignal): 'unplugged' | 'full' | 'aborted' | 'failed' {
  const code = err instanceof RepositoryError ? err.code : (err as NodeJS.ErrnoException)?.code;
  if (code === 'no-space' || code === 'ENOSPC' || code === 'EDQUOT') return 'full';
  // A disk pulled out shows as EIO, ENODEV, ENOENT… whatever the kernel says, "gone" is the fact that matters.
  if (!target.present()) return 'unplugged';
  if (signal?.aborted || (err as Error)?.name === 'AbortError') return 'aborted';
  return 'failed';
}
