/**
 * The repository's public surface (docs/repository.md is the format). Other parts of the agent
 * (backup scheduling, USB disks, the secondary server, restore) use only what is declared here.
 */
import type { Readable } from 'node:stream';
import type { SnapshotManifest } from '@sentinela/shared';
import type { Source } from '../sources/source.js';

export interface Progress {
  /** What is happening, in a few words ("dumping", "copying objects", "verifying"). */
  phase: string;
  doneBytes: number;
  /** Unknown while a dump is still streaming. */
  totalBytes?: number;
  doneItems?: number;
  totalItems?: number;
}
export type OnProgress = (p: Progress) => void;

export interface BackupOptions {
  onProgress?: OnProgress;
  /** Store a full snapshot after this many deltas in a row (keeps restore chains short). */
  rebaseEvery?: number;
  signal?: AbortSignal;
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
  removedObjects: number;
  freedBytes: number;
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
  forget(policy: RetentionPolicy, opts?: { dryRun?: boolean }): Promise<ForgetResult>;
  /** Deletes objects that no manifest references. */
  prune(): Promise<PruneResult>;
}
