/**
 * When a scheduled drill may start: at most once every `everyDays`, inside the off-peak window
 * (local time; an end before the start crosses midnight), never on UPS battery, never while a backup
 * runs. Pure, so every case is tested without waiting for a night.
 */
import type { AgentDrillsConfig } from '@sentinela/shared';

export interface DrillConditions {
  now: Date;
  /** When the last drill finished (null: never). */
  lastAt: string | null;
  onBattery: boolean;
  backupRunning: boolean;
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function inWindow(window: AgentDrillsConfig['window'], now: Date): boolean {
  const m = now.getHours() * 60 + now.getMinutes();
  const start = minutes(window.start);
  const end = minutes(window.end);
  return start <= end ? m >= start && m < end : m >= start || m < end;
}

/** Null when a drill is due now, else why not (for the debug log). */
export function whyNotNow(cfg: AgentDrillsConfig, c: DrillConditions): string | null {
  if (!cfg.enabled) return 'scheduled drills are off';
  if (c.lastAt && c.now.getTime() - Date.parse(c.lastAt) < cfg.everyDays * 86_400_000) return `the last drill was at ${c.lastAt}`;
  if (!inWindow(cfg.window, c.now)) return `outside the off-peak window ${cfg.window.start}-${cfg.window.end}`;
  if (c.onBattery) return 'the server is on UPS battery';
  if (c.backupRunning) return 'a backup is running';
  return null;
}
