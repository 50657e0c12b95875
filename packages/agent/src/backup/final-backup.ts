/**
 * The power module's last backup before an orderly shutdown: every source, then the copy to an
 * attached USB disk. The estimate comes from what this server really took lately, never a guess.
 */
import type { FinalBackup } from '../power/final-backup.js';
import type { BackupState } from './state.js';

export interface FinalBackupHost {
  sources(): string[];
  state: BackupState;
  /** Backs up every source (joining runs already under way); stops the one running when `signal` aborts. */
  backupAll(signal: AbortSignal): Promise<void>;
  /** Copies to the attached disks and the peer; stops cleanly when `signal` aborts. */
  copyNow(signal: AbortSignal): Promise<void>;
}

/** The slowest of the last few good runs of each source, summed, plus the copy at the measured rate. */
export function estimateFinalSeconds(state: BackupState, sources: string[]): number | null {
  let total = 0;
  let storedBytes = 0;
  for (const name of sources) {
    const durations = state.recentDurations(name, 5);
    if (durations.length === 0) return null;
    total += Math.max(...durations) / 1000;
    storedBytes += state.lastRun(name, true)?.storedBytes ?? 0;
  }
  const rate = Number(state.getMeta('copyBytesPerSecond') ?? 0);
  if (rate > 0) total += storedBytes / rate;
  return total;
}

export function finalBackup(host: FinalBackupHost): FinalBackup {
  return {
    estimateSeconds: () => estimateFinalSeconds(host.state, host.sources()),
    async run(signal) {
      await host.backupAll(signal);
      if (!signal.aborted) await host.copyNow(signal);
    },
  };
}
