/**
 * Which rows to drop when the outbox is over its size limit. Pure, so it can be tested on its own.
 *
 * Status samples are thinned rather than cut: each round deletes every other row of the oldest half
 * (keeping the oldest of each pair), so old history gets coarser rather than vanishing and recent
 * samples stay at full resolution. Events are dropped oldest first, least severe first.
 */
import type { DroppedRow } from './summary.js';

export interface SizedRow {
  seq: number;
  bytes: number;
}

export interface TimedRow extends SizedRow {
  /** When the row was recorded (ISO 8601 UTC, so strings compare in time order). */
  ts: string;
}

/** `rows`: status rows, oldest first. Returns the seqs to delete, ascending. Stops as soon as enough bytes are freed. */
export function chooseThinning(rows: readonly SizedRow[], bytesToFree: number): number[] {
  const dropped: number[] = [];
  let freed = 0;
  let remaining = rows.slice();
  while (freed < bytesToFree && remaining.length > 0) {
    const half = Math.ceil(remaining.length / 2);
    if (half < 2) {
      // One or two rows left: no pair to thin, drop the oldest.
      const row = remaining.shift()!;
      dropped.push(row.seq);
      freed += row.bytes;
      continue;
    }
    const kept: SizedRow[] = [];
    for (let i = 0; i < half; i++) {
      const row = remaining[i]!;
      if (i % 2 === 1 && freed < bytesToFree) {
        dropped.push(row.seq);
        freed += row.bytes;
      } else kept.push(row);
    }
    remaining = kept.concat(remaining.slice(half));
  }
  return dropped.sort((a, b) => a - b);
}

export interface DropSources {
  /** Every status row, oldest first. */
  statuses: readonly TimedRow[];
  /** Events of one severity, oldest first (read lazily: most passes never reach the warnings). */
  events: (severity: 'info' | 'warning' | 'critical') => Iterable<TimedRow>;
}

/**
 * The drop order, applied until `bytesToFree` is reached:
 * 1. status samples, thinned, while they fill more than `statusFloor` bytes;
 * 2. info events, then 3. warning events, oldest first;
 * 4. the remaining status samples, thinned down to none;
 * 5. critical events, oldest first.
 * So a storm of minor events cannot erase the status history, and critical events go last; every
 * row is in some step, which is what keeps the size bound for any mix of messages.
 */
export function chooseDrops(src: DropSources, bytesToFree: number, statusFloor: number): DroppedRow[] {
  const out: DroppedRow[] = [];
  let freed = 0;
  const take = (r: TimedRow, cls: DroppedRow['class']) => {
    out.push({ seq: r.seq, bytes: r.bytes, ts: r.ts, class: cls });
    freed += r.bytes;
  };
  const thin = (rows: readonly TimedRow[], toFree: number): Set<number> => {
    const chosen = new Set(chooseThinning(rows, toFree));
    for (const r of rows) if (chosen.has(r.seq)) take(r, 'status');
    return chosen;
  };
  const events = (severity: 'info' | 'warning' | 'critical') => {
    if (freed >= bytesToFree) return;
    for (const r of src.events(severity)) {
      take(r, severity);
      if (freed >= bytesToFree) return;
    }
  };
  const statusBytes = src.statuses.reduce((n, r) => n + r.bytes, 0);
  const first = thin(src.statuses, Math.min(bytesToFree, statusBytes - statusFloor));
  events('info');
  events('warning');
  if (freed < bytesToFree) {
    thin(
      src.statuses.filter((r) => !first.has(r.seq)),
      bytesToFree - freed,
    );
  }
  events('critical');
  return out;
}
