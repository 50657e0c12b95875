/** The alerts and maintenance tables. At most one open alert per (site, rule): the unique index enforces the deduplication. */
import { cachedStatement, type Db } from '../store/db.js';
import type { Rule, Severity, Wanted } from './rules.js';

export interface AlertRow {
  id: number;
  site_id: string | null;
  rule: Rule;
  severity: Severity;
  message: string;
  data: string | null;
  raised_at: string;
  updated_at: string;
  cleared_at: string | null;
  acked_at: string | null;
  acked_by: string | null;
}

export function openAlerts(db: Db, siteId?: string | null): AlertRow[] {
  if (siteId === undefined) return cachedStatement(db, 'SELECT * FROM alerts WHERE cleared_at IS NULL ORDER BY raised_at DESC').all() as AlertRow[];
  return cachedStatement(db, 'SELECT * FROM alerts WHERE cleared_at IS NULL AND site_id IS ? ORDER BY raised_at DESC').all(siteId) as AlertRow[];
}

/** One page of the open alerts, most severe first, then newest; and how many are open per severity. */
export function openAlertsPage(db: Db, q: { severity?: Severity; offset: number; limit: number }): { alerts: AlertRow[]; counts: Record<Severity, number> } {
  const order = "ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, raised_at DESC, id DESC";
  const alerts = (
    q.severity
      ? cachedStatement(db, `SELECT * FROM alerts WHERE cleared_at IS NULL AND severity = ? ${order} LIMIT ? OFFSET ?`).all(q.severity, q.limit, q.offset)
      : cachedStatement(db, `SELECT * FROM alerts WHERE cleared_at IS NULL ${order} LIMIT ? OFFSET ?`).all(q.limit, q.offset)
  ) as AlertRow[];
  const counts: Record<Severity, number> = { critical: 0, warning: 0, info: 0 };
  for (const r of cachedStatement(db, 'SELECT severity, COUNT(*) AS n FROM alerts WHERE cleared_at IS NULL GROUP BY severity').all() as Array<{ severity: Severity; n: number }>) counts[r.severity] = r.n;
  return { alerts, counts };
}

export function siteAlerts(db: Db, siteId: string, limit: number): AlertRow[] {
  return db.prepare('SELECT * FROM alerts WHERE site_id = ? ORDER BY cleared_at IS NOT NULL, raised_at DESC LIMIT ?').all(siteId, limit) as AlertRow[];
}

export function getAlert(db: Db, id: number): AlertRow | undefined {
  return db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
}

export function raiseAlert(db: Db, siteId: string | null, w: Wanted, now: string): AlertRow {
  const id = db
    .prepare('INSERT INTO alerts (site_id, rule, severity, message, data, raised_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(siteId, w.rule, w.severity, w.message, w.data ? JSON.stringify(w.data) : null, now, now).lastInsertRowid;
  return getAlert(db, Number(id))!;
}

/** A worse severity un-acknowledges: people must see that it got worse. */
export function updateAlert(db: Db, a: AlertRow, w: Wanted, now: string): void {
  const worse = rank(w.severity) > rank(a.severity);
  db.prepare(`UPDATE alerts SET severity = ?, message = ?, data = ?, updated_at = ?${worse ? ', acked_at = NULL, acked_by = NULL' : ''} WHERE id = ?`).run(
    w.severity,
    w.message,
    w.data ? JSON.stringify(w.data) : null,
    now,
    a.id,
  );
}

export function clearAlert(db: Db, id: number, now: string): void {
  db.prepare('UPDATE alerts SET cleared_at = ?, updated_at = ? WHERE id = ? AND cleared_at IS NULL').run(now, now, id);
}

export function ackAlert(db: Db, id: number, by: string, now = new Date()): boolean {
  return db.prepare('UPDATE alerts SET acked_at = ?, acked_by = ? WHERE id = ? AND cleared_at IS NULL AND acked_at IS NULL').run(now.toISOString(), by, id).changes > 0;
}

export function raisedSince(db: Db, siteId: string, since: string): number {
  return cachedStatement(db, "SELECT COUNT(*) FROM alerts WHERE site_id = ? AND raised_at >= ? AND rule <> 'flapping'").pluck().get(siteId, since) as number;
}

const rank = (s: Severity) => ({ info: 0, warning: 1, critical: 2 })[s];

export interface MaintenanceRow {
  id: number;
  site_id: string | null;
  starts_at: string;
  ends_at: string;
  reason: string;
  created_by: string;
  created_at: string;
}

export function addMaintenance(db: Db, m: { siteId: string | null; startsAt: string; endsAt: string; reason: string; by: string }, now = new Date()): MaintenanceRow {
  const id = db
    .prepare('INSERT INTO maintenance (site_id, starts_at, ends_at, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(m.siteId, m.startsAt, m.endsAt, m.reason, m.by, now.toISOString()).lastInsertRowid;
  return db.prepare('SELECT * FROM maintenance WHERE id = ?').get(id) as MaintenanceRow;
}

export function currentMaintenance(db: Db, now = new Date()): MaintenanceRow[] {
  const t = now.toISOString();
  return cachedStatement(db, 'SELECT * FROM maintenance WHERE ends_at > ? ORDER BY starts_at').all(t) as MaintenanceRow[];
}

export function deleteMaintenance(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM maintenance WHERE id = ?').run(id).changes > 0;
}
