/**
 * A source's backup schedule: a cron expression in the server's local time, five fields (or six,
 * seconds first), Vixie cron's rules (a day-of-month and a day-of-week both given: either matches).
 * croner, not node-cron: node-cron checks every second by formatting the time with Intl, which keeps
 * ICU's data and formatters resident (+8.9 MB against croner's +0.7 MB for one hourly schedule,
 * bench agent-rss); croner sleeps until the next run and uses Intl only for an explicit time zone.
 */
import { Cron } from 'croner';

/** Databases (and everything else) default to hourly: RPO ≤ 1 hour. */
export const DEFAULT_SCHEDULE = '0 * * * *';

/** Runs `fn` on `expr`; a run still going skips the next tick (`protect`). Throws on a bad expression. */
export function schedule(expr: string, fn: () => void): Cron {
  return new Cron(expr, { protect: true, domAndDow: false }, fn);
}

/** When `expr` next fires after `from` (no timer is started). */
export function nextRun(expr: string, from: Date): Date | null {
  return new Cron(expr, { domAndDow: false }).nextRun(from);
}
