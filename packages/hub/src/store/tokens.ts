/**
 * One-time enrolment tokens and API tokens. Only SHA-256 hashes are stored: the secrets are
 * 256 random bits, printed once.
 */
import { randomToken, sha256Hex } from '@sentinela/shared';
import type { Db } from './db.js';
import { getSite, SiteError } from './sites.js';

export interface IssuedToken {
  siteId: string;
  token: string;
  expiresAt: string;
}

/**
 * A new enrolment token for a site. Older unused tokens of the site expire now: only the
 * newest one printed can enrol.
 */
export function issueEnrollToken(db: Db, siteId: string, ttlHours: number, now = new Date()): IssuedToken {
  const token = randomToken(32, 'enr_');
  const expiresAt = new Date(now.getTime() + ttlHours * 3600_000).toISOString();
  db.transaction(() => {
    if (!getSite(db, siteId)) throw new SiteError('unknown', `there is no site ${siteId} (create it with "sentinela-hub sites add --id ${siteId}")`);
    db.prepare('UPDATE enroll_tokens SET expires_at = ? WHERE site_id = ? AND used_at IS NULL AND expires_at > ?').run(
      now.toISOString(),
      siteId,
      now.toISOString(),
    );
    db.prepare('INSERT INTO enroll_tokens (token_hash, site_id, created_at, expires_at) VALUES (?, ?, ?, ?)').run(
      sha256Hex(token),
      siteId,
      now.toISOString(),
      expiresAt,
    );
  }).immediate();
  return { siteId, token, expiresAt };
}

export type RedeemResult =
  | { ok: true; siteId: string; password: string; undo: RedeemUndo }
  | { ok: false; code: 'unknown' }
  | { ok: false; code: 'used'; siteId: string; at: string }
  | { ok: false; code: 'expired'; siteId: string; at: string };

/**
 * Spends a token: the site gets a new MQTT password (the old one stops working at once).
 * One transaction, so two agents racing with the same token cannot both win.
 */
export function redeemEnrollToken(db: Db, token: string, now = new Date()): RedeemResult {
  return db.transaction((): RedeemResult => {
    const row = db.prepare('SELECT site_id, expires_at, used_at FROM enroll_tokens WHERE token_hash = ?').get(sha256Hex(token)) as
      | { site_id: string; expires_at: string; used_at: string | null }
      | undefined;
    if (!row) return { ok: false, code: 'unknown' };
    if (row.used_at) return { ok: false, code: 'used', siteId: row.site_id, at: row.used_at };
    if (row.expires_at <= now.toISOString()) return { ok: false, code: 'expired', siteId: row.site_id, at: row.expires_at };
    const password = randomToken(32);
    const at = now.toISOString();
    const before = db.prepare('SELECT password_hash, enrolled_at FROM sites WHERE id = ?').get(row.site_id) as { password_hash: string | null; enrolled_at: string | null };
    db.prepare('UPDATE enroll_tokens SET used_at = ? WHERE token_hash = ?').run(at, sha256Hex(token));
    db.prepare('UPDATE sites SET password_hash = ?, enrolled_at = ? WHERE id = ?').run(sha256Hex(password), at, row.site_id);
    return { ok: true, siteId: row.site_id, password, undo: { tokenHash: sha256Hex(token), siteId: row.site_id, ...before } };
  }).immediate();
}

/** What a redeem changed, so that it can be taken back when the broker could not be given the new password. */
export interface RedeemUndo {
  tokenHash: string;
  siteId: string;
  password_hash: string | null;
  enrolled_at: string | null;
}

/** The token can be used again and the site keeps the password it had: the enrolment never happened. */
export function undoRedeem(db: Db, undo: RedeemUndo): void {
  db.transaction(() => {
    db.prepare('UPDATE enroll_tokens SET used_at = NULL WHERE token_hash = ?').run(undo.tokenHash);
    db.prepare('UPDATE sites SET password_hash = ?, enrolled_at = ? WHERE id = ?').run(undo.password_hash, undo.enrolled_at, undo.siteId);
  }).immediate();
}

/** A new API token with a role (viewer, operator or admin: the same roles as console users). */
export function createApiToken(db: Db, name: string, now = new Date(), role: 'viewer' | 'operator' | 'admin' = 'viewer'): string {
  const token = randomToken(32, 'sat_');
  db.prepare('INSERT INTO api_tokens (token_hash, name, created_at, role) VALUES (?, ?, ?, ?)').run(sha256Hex(token), name, now.toISOString(), role);
  return token;
}

/** The token's name and role, or null. */
export function apiTokenAuth(db: Db, token: string): { name: string; role: 'viewer' | 'operator' | 'admin' } | null {
  const row = db.prepare('SELECT name, role FROM api_tokens WHERE token_hash = ?').get(sha256Hex(token)) as { name: string; role: 'viewer' | 'operator' | 'admin' } | undefined;
  return row ?? null;
}

/** The token's name, or null. A lookup by hash is not a timing oracle on the secret itself. */
export function apiTokenName(db: Db, token: string): string | null {
  const row = db.prepare('SELECT name FROM api_tokens WHERE token_hash = ?').get(sha256Hex(token)) as { name: string } | undefined;
  return row?.name ?? null;
}
