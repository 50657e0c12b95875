/** The audit log: who did what to what, from where, and whether it was allowed. Every console and API action writes one row. */
import type { Db } from '../store/db.js';

export interface AuditEntry {
  actor: string;
  role?: string | null;
  action: string;
  target?: string | null;
  ok: boolean;
  ip?: string | null;
  detail?: Record<string, unknown> | null;
}

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  role: string | null;
  action: string;
  target: string | null;
  ok: number;
  ip: string | null;
  detail: string | null;
}

export function audit(db: Db, e: AuditEntry, now = new Date()): void {
  db.prepare('INSERT INTO audit (at, actor, role, action, target, ok, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    now.toISOString(),
    e.actor,
    e.role ?? null,
    e.action,
    e.target ?? null,
    e.ok ? 1 : 0,
    e.ip ?? null,
    e.detail ? JSON.stringify(e.detail) : null,
  );
}

export function listAudit(db: Db, limit: number, before?: number): AuditRow[] {
  return db
    .prepare(`SELECT * FROM audit ${before ? 'WHERE id < ?' : ''} ORDER BY id DESC LIMIT ?`)
    .all(...(before ? [before, limit] : [limit])) as AuditRow[];
}
