/**
 * The record of what the size limit dropped. All passes of one outage go into one `outbox.thinned`
 * event, rewritten in place until the link sends it; only then does the next pass start another.
 * So the record costs one row however long the hub stays out of reach, and no drop goes uncounted.
 */
import type { Severity } from '@sentinela/shared';

/** What a dropped row was: a status sample, or an event of some severity. */
export type DropClass = 'status' | Severity;

export interface DroppedRow {
  seq: number;
  bytes: number;
  ts: string;
  class: DropClass;
}

export interface ThinSummary {
  /** The outbox row (an event) that carries this summary. */
  seq: number;
  openedAt: string;
  passes: number;
  dropped: Record<DropClass, number>;
  fromSeq: number;
  toSeq: number;
  /** When the oldest and newest dropped messages were recorded. */
  firstTs: string;
  lastTs: string;
}

export function openSummary(seq: number, openedAt: string, rows: readonly DroppedRow[]): ThinSummary {
  const first = rows[0]!;
  return addDrops(
    { seq, openedAt, passes: 0, dropped: { status: 0, info: 0, warning: 0, critical: 0 }, fromSeq: first.seq, toSeq: first.seq, firstTs: first.ts, lastTs: first.ts },
    rows,
    true,
  );
}

/** The summary with more dropped rows counted; `newPass`: they are a new pass, not a second round of the same one. */
export function addDrops(s: ThinSummary, rows: readonly DroppedRow[], newPass: boolean): ThinSummary {
  const next: ThinSummary = { ...s, dropped: { ...s.dropped }, passes: s.passes + (newPass ? 1 : 0) };
  for (const r of rows) {
    next.dropped[r.class]++;
    if (r.seq < next.fromSeq) next.fromSeq = r.seq;
    if (r.seq > next.toSeq) next.toSeq = r.seq;
    if (r.ts < next.firstTs) next.firstTs = r.ts;
    if (r.ts > next.lastTs) next.lastTs = r.ts;
  }
  return next;
}

export function droppedCount(s: ThinSummary): number {
  return s.dropped.status + s.dropped.info + s.dropped.warning + s.dropped.critical;
}

/** A critical event lost is itself worth a critical event; anything less is a warning. */
export function summarySeverity(s: ThinSummary): Severity {
  return s.dropped.critical > 0 ? 'critical' : 'warning';
}

/** What was dropped, in words: "12 status samples, 3 info events". */
export function describeDrops(d: Record<DropClass, number>): string {
  const parts = [
    d.status ? `${d.status} status samples` : '',
    d.info ? `${d.info} info events` : '',
    d.warning ? `${d.warning} warning events` : '',
    d.critical ? `${d.critical} critical events` : '',
  ].filter(Boolean);
  return parts.join(', ') || 'nothing';
}

/**
 * The event's sentence and data. `streamTotal`: every row this outbox ever dropped, so the hub can
 * tell a stream's thinned seqs from lost ones even if an older summary was itself dropped.
 */
export function summaryContent(s: ThinSummary, maxBytes: number, streamTotal: number): { message: string; data: Record<string, unknown> } {
  const n = droppedCount(s);
  const message =
    `The outbox reached its limit of ${maxBytes} bytes while the hub was out of reach: dropped ${n} messages ` +
    `(${describeDrops(s.dropped)}; seq ${s.fromSeq} to ${s.toSeq}, recorded ${s.firstTs} to ${s.lastTs}) in ${s.passes} passes since ${s.openedAt}`;
  return {
    message,
    data: {
      dropped: n,
      byClass: s.dropped,
      fromSeq: s.fromSeq,
      toSeq: s.toSeq,
      firstTs: s.firstTs,
      lastTs: s.lastTs,
      passes: s.passes,
      since: s.openedAt,
      streamTotal,
    },
  };
}

/** Reads the summary kept in the outbox's meta table; null when absent or unreadable (a new one is started). */
export function parseSummary(json: string | null): ThinSummary | null {
  if (!json) return null;
  try {
    const s = JSON.parse(json) as ThinSummary;
    return typeof s.seq === 'number' && typeof s.dropped === 'object' && s.dropped !== null ? s : null;
  } catch {
    return null;
  }
}
