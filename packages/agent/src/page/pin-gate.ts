/**
 * Rate limit on PIN attempts, with the back-off both programs share (shared runtime/backoff.ts, the
 * hub's login throttle too). After `freeAttempts` wrong PINs in a row every further attempt must
 * wait, 5 s then doubling up to 5 minutes; during the wait attempts are refused without even
 * checking the PIN, so a 4-digit PIN cannot be walked through. Keyed by client address, so one
 * person's typos do not lock out the technician at another workstation; an address quiet for a day
 * starts afresh.
 */
import { Backoff } from '@sentinela/shared';

export const pinBackoff = (freeAttempts: number): Backoff => new Backoff({ free: freeAttempts, baseMs: 5_000, maxMs: 300_000, forgetMs: 24 * 3600_000 });
