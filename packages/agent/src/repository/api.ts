/**
 * The repository's public surface (docs/repository.md is the format). Other parts of the agent
 * (backup scheduling, USB disks, the secondary server, restore) use only what is declared here.
 */
import type { Readable } from 'node:stream';
import type { LockInfo, Progress, SnapshotManifest } from '@sentinela/shared';
import type { Source } from '../sources/source.js';

export type { Progress };
export type OnProgress = (p: Progress) => void;

export interface BackupOptions {
  onProgress?: OnProgress;
  /** Store a full snapshot after this many deltas in a row (keeps restore chains short). */
  rebaseEvery?: number;
  signal?: AbortSignal;
  /** Told who holds the repository's lock when the backup must wait for it (a prune in another process). */
  onLockWait?: (holders: LockInfo[]) => void;
}

export interface VerifyProblem {
  /** `missing-object`, `corrupt-object`, `bad-manifest`, `content-mismatch`, … */
  kind: string;
  /** The object name or snapshot id concerned. */
  item: string;
  detail: string;
}

export interface VerifyReport {
  snapshots: number;
  objects: number;
  bytesRead: number;
  problems: VerifyProblem[];
  /** Objects no snapshot file lists (left by forget, or by a backup still running): `prune` removes them. Not problems. */
  unreferenced: { objects: number; bytes: number };
  /** Leftover `.tmp-*` files of interrupted writes: `prune` removes them. Not problems. */
  tempFiles: { files: number; bytes: number };
}

/** A snapshot file whose manifest cannot be read: `snapshots()` leaves it out. */
export interface DamagedSnapshot {
  id: string;
  detail: string;
  /** Deltas whose chain needs it (directly or through other deltas): none of them can be restored. */
  dependents: string[];
}

export interface CopyReport {
  snapshotsCopied: string[];
  objectsCopied: number;
  objectsSkipped: number;
  bytesCopied: number;
}

export interface RetentionPolicy {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
}

export interface ForgetResult {
  kept: string[];
  removed: string[];
}

export interface PruneResult {
  /** Objects no snapshot lists, removed (or, with dryRun, that would be). */
  removedObjects: number;
  /** Bytes of those objects and temp files. */
  freedBytes: number;
  removedTempFiles: number;
  /** Unreferenced objects and temp files younger than the grace period, kept: a backup or copy may be writing them. */
  sparedYoung: number;
  dryRun: boolean;
}

export interface PruneOptions {
  /** Spares unreferenced files younger than this (default 6 h). */
  graceMs?: number;
  dryRun?: boolean;
  onProgress?: OnProgress;
  onLockWait?: (holders: LockInfo[]) => void;
}

/** A repository opened with the site's key: it can write and read snapshots. */
export interface Repository {
  readonly dir: string;
  readonly id: string;
  readonly siteId: string;
  /** Dumps `source` into a new snapshot: a delta against the newest complete snapshot of that source, or a full one. */
  backup(source: Source, opts?: BackupOptions): Promise<SnapshotManifest>;
  /** Complete snapshots (those whose manifest exists), oldest first. */
  snapshots(filter?: { source?: string }): Promise<SnapshotManifest[]>;
  /** The snapshot's reconstructed content; the stream errors if its SHA-256 differs from the manifest's. */
  read(snapshotId: string, opts?: { onProgress?: OnProgress }): Readable;
  verify(opts: { readData: boolean; onProgress?: OnProgress }): Promise<VerifyReport>;
  /** Removes snapshots the policy does not keep; never the newest verified snapshot of a source, never a base another kept snapshot needs. */
  forget(policy: RetentionPolicy, opts?: { dryRun?: boolean; onLockWait?: (holders: LockInfo[]) => void }): Promise<ForgetResult>;
  /** Deletes objects that no manifest references, and leftover temp files. */
  prune(opts?: PruneOptions): Promise<PruneResult>;
  /** Snapshot files whose manifest cannot be read, with the deltas that depend on each. */
  damagedSnapshots(): Promise<DamagedSnapshot[]>;
}
