/**
 * One backup of one source into the spool, timed and recorded. Shared by the agent's schedule and
 * the `backup` verb, so both leave the same history (the power module's estimate reads it).
 */
import type { LockInfo } from '@sentinela/shared';
import type { SnapshotManifest } from '@sentinela/shared';
import type { OnProgress, Repository } from '../repository/api.js';
import { DumpError, type Source } from '../sources/source.js';
import type { BackupState } from './state.js';

export interface BackupResult {
  manifest: SnapshotManifest;
  durationMs: number;
}

/** The tool's own words when a dump failed; the message otherwise. Capped: it travels in an event. */
export function failureText(err: unknown): string {
  const e = err as Error;
  const text = err instanceof DumpError && err.toolOutput.trim() ? `${e.message}: ${err.toolOutput.trim()}` : (e?.message ?? String(err));
  return text.length > 2000 ? `…${text.slice(-2000)}` : text;
}

export async function backupSource(
  repo: Repository,
  source: Source,
  state: BackupState,
  opts: { rebaseEvery?: number; onProgress?: OnProgress; signal?: AbortSignal; onLockWait?: (holders: LockInfo[]) => void } = {},
): Promise<BackupResult> {
  const started = new Date();
  try {
    const manifest = await repo.backup(source, opts);
    const finished = new Date();
    const durationMs = finished.getTime() - started.getTime();
    state.recordRun({
      source: source.name,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs,
      ok: true,
      snapshotId: manifest.id,
      contentBytes: manifest.content.bytes,
      storedBytes: manifest.stored,
      error: null,
    });
    return { manifest, durationMs };
  } catch (err) {
    const finished = new Date();
    state.recordRun({
      source: source.name,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      ok: false,
      snapshotId: null,
      contentBytes: null,
      storedBytes: null,
      error: failureText(err),
    });
    throw err;
  }
}
