import { statfsSync } from 'node:fs';
import { formatBytes } from '../runtime/progress.js';

/** The one error type of repository work; `code` says what kind, the message what and where. */
export class RepositoryError extends Error {
  constructor(
    message: string,
    /** `wrong-key`, `not-a-repository`, `corrupt-object`, `missing-object`, `missing-base`, `bad-manifest`, `content-mismatch`, `no-space`, `io-error`, `bad-recovery-code`, `key-file`, `locked`, … */
    readonly code: string,
  ) {
    super(message);
    this.name = 'RepositoryError';
  }
}

/** How much room is left on the filesystem holding `dir`, in words ("12.0 KiB free of 8.0 MiB on /spool"). */
export function freeSpaceText(dir: string): string {
  try {
    const s = statfsSync(dir);
    return `${formatBytes(s.bavail * s.bsize)} free of ${formatBytes(s.blocks * s.bsize)} on ${dir}`;
  } catch {
    return `free space on ${dir} unknown`;
  }
}

/**
 * Turns disk-level failures into words a technician understands; anything else passes through.
 * `dir`: the location written to, whose free space a full disk's message states.
 */
export function describeFsError(err: unknown, what: string, dir?: string): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new RepositoryError(
      `${what}: the disk is full (${code}${dir ? `: ${freeSpaceText(dir)}` : ''}); free space or use another disk, then run again to resume`,
      'no-space',
    );
  if (code === 'EIO' || code === 'ENXIO' || code === 'ENODEV')
    return new RepositoryError(`${what}: input/output error (${code}); the disk may be failing or was unplugged`, 'io-error');
  if (code === 'EROFS') return new RepositoryError(`${what}: the disk is mounted read-only (EROFS)`, 'io-error');
  return err instanceof Error ? err : new Error(String(err));
}
