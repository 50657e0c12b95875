/**
 * A source's backup schedule: a cron expression in the server's local time, five fields (or six,
 * seconds first), run by node-cron (the design card's scheduler). Unlike Vixie cron, a day of the
 * month and a day of the week given together must both match ("0 0 1 * 5": a Friday the 1st). Its cost at rest, measured by
 * bench agent-rss: node-cron checks the time with Intl, which keeps ICU's data resident (+8.9 MB
 * for one hourly schedule, file-backed pages of the node binary, shared with other node processes).
 */
import cron, { type ScheduledTask } from 'node-cron';

/** Databases (and everything else) default to hourly: RPO ≤ 1 hour. */
export const DEFAULT_SCHEDULE = '0 * * * *';

/** Runs `fn` on `expr`; a run still going skips the next tick (`noOverlap`). Throws on a bad expression. */
export function schedule(expr: string, name: string, fn: () => void): ScheduledTask {
  return cron.schedule(expr, () => fn(), { name, noOverlap: true });
}

/** Whether `expr` fires at `at` (to the second), as the running schedule would decide. Throws on a bad expression. */
export function firesAt(expr: string, at: Date): boolean {
  const task = cron.createTask(expr, () => undefined);
  try {
    return task.match(at);
  } finally {
    void task.destroy();
  }
}
