/**
 * Which snapshots a retention policy keeps, per source, the way restic's `forget` counts:
 * the newest N; the newest of each of the last N hours/days/weeks/months that have one.
 * On top: the newest snapshot of each source always, and every base a kept delta needs.
 */
import type { SnapshotManifest } from '@sentinela/shared';
import type { RetentionPolicy } from './api.js';

export function selectKept(all: SnapshotManifest[], policy: RetentionPolicy): Set<string> {
  const keep = new Set<string>();
  const empty = !policy.keepLast && !policy.keepHourly && !policy.keepDaily && !policy.keepWeekly && !policy.keepMonthly;
  const bySource = new Map<string, SnapshotManifest[]>();
  for (const m of all) bySource.set(m.source, [...(bySource.get(m.source) ?? []), m]);
  for (const list of bySource.values()) {
    const newest = [...list].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.id < b.id ? 1 : -1));
    if (empty) newest.forEach((m) => keep.add(m.id)); // no rule at all: forget nothing
    newest.slice(0, policy.keepLast ?? 0).forEach((m) => keep.add(m.id));
    const rules: Array<[number | undefined, (d: Date) => string]> = [
      [policy.keepHourly, (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}-${d.getHours()}`],
      [policy.keepDaily, (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`],
      [policy.keepWeekly, isoWeek],
      [policy.keepMonthly, (d) => `${d.getFullYear()}-${d.getMonth()}`],
    ];
    for (const [n, bucket] of rules) {
      if (!n) continue;
      const seen = new Set<string>();
      for (const m of newest) {
        const b = bucket(new Date(m.startedAt));
        if (seen.has(b)) continue;
        if (seen.size >= n) break;
        seen.add(b);
        keep.add(m.id);
      }
    }
    if (newest[0]) keep.add(newest[0].id);
  }
  // A kept delta is useless without its chain of bases.
  const byId = new Map(all.map((m) => [m.id, m]));
  for (const id of [...keep]) {
    for (let m = byId.get(id); m?.base; m = byId.get(m.base)) keep.add(m.base);
  }
  return keep;
}

/** Local-time ISO week (restic buckets by local time too). */
function isoWeek(d: Date): string {
  const t = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const day = (t.getDay() + 6) % 7;
  t.setDate(t.getDate() - day + 3);
  const firstThursday = new Date(t.getFullYear(), 0, 4);
  const week = 1 + Math.round(((t.getTime() - firstThursday.getTime()) / 86400000 - 3 + ((firstThursday.getDay() + 6) % 7)) / 7);
  return `${t.getFullYear()}-W${week}`;
}
