/**
 * One-time enrolment tokens and API tokens. Only SHA-256 hashes are stored: the secrets are
 * 256 random bits, printed once.
 */
import { randomToken, sha256Hex } from '@sentinela/shared';
import type { Db } from './db.js';
import { SiteError } from './sites.js';
import type { Sql } from './sql.js';

export interface IssuedToken {
  siteId: string;
  token: string;
  expiresAt: string;
}

/**
 * A new enrolment token for a site. Older unused tokens of the site expire now: only the
 * newest one printed can enrol. Through the SQL facade: on PostgreSQL too (issue 20).
 */
export async function issueEnrollToken(sql: Sql, siteId: string, ttlHours: number, now = new Date()): Promise<IssuedToken> {
  const token = randomToken(32, 'enr_');
  const expiresAt = new Date(now.getTime() + ttlHours * 3600_000).toISOString();
  await sql.transaction(async (tx) => {
    if (!(await tx.one('SELECT 1 AS one FROM sites WHERE id = ?', [siteId]))) {
      throw new SiteError('unknown', `there is no site ${siteId} (create it with "sentinela-hub sites add --id ${siteId}")`);
    }
    await tx.run('UPDATE enroll_tokens SET expires_at = ? WHERE site_id = ? AND used_at IS NULL AND expires_at > ?', [now.toISOString(), siteId, now.toISOString()]);
    await tx.run('INSERT INTO enroll_tokens (token_hash, site_id, created_at, expires_at) VALUES (?, ?, ?, ?)', [sha256Hex(token), siteId, now.toISOString(), expiresAt]);
  });
  return { siteId, token, expiresAt };
}

export type RedeemResult =
  | { ok: true; siteId: string; password: string; undo: RedeemUndo }
  | { ok: false; code: 'unknown' }
  | { ok: false; code: 'used'; siteId: string; at: string }
  | { ok: false; code: 'expired'; siteId: string; at: string };

/**
 * Spends a token: the site gets a new MQTT password (the old one stops working at once).
 * One transaction that marks the token used only if it still is not (a conditional UPDATE: on
 * PostgreSQL two hub instances may race), so two agents racing with the same token cannot both win.
 */
export async function redeemEnrollToken(sql: Sql, token: string, now = new Date()): Promise<RedeemResult> {
  const hash = sha256Hex(token);
  return sql.transaction(async (tx): Promise<RedeemResult> => {
    const row = await tx.one<{ site_id: string; expires_at: string; used_at: string | null }>('SELECT site_id, expires_at, used_at FROM enroll_tokens WHERE token_hash = ?', [hash]);
    if (!row) return { ok: false, code: 'unknown' };
    if (row.used_at) return { ok: false, code: 'used', siteId: row.site_id, at: row.used_at };
    if (row.expires_at <= now.toISOString()) return { ok: false, code: 'expired', siteId: row.site_id, at: row.expires_at };
    const at = now.toISOString();
    if ((await tx.run('UPDATE enroll_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL', [at, hash])).changes === 0) {
      const used = await tx.one<{ used_at: string }>('SELECT used_at FROM enroll_tokens WHERE token_hash = ?', [hash]);
      return { ok: false, code: 'used', siteId: row.site_id, at: used?.used_at ?? at };
    }
    const password = randomToken(32);
    const before = (await tx.one<{ password_hash: string | null; enrolled_at: string | null }>('SELECT password_hash, enrolled_at FROM sites WHERE id = ?', [row.site_id]))!;
    await tx.run('UPDATE sites SET password_hash = ?, enrolled_at = ? WHERE id = ?', [sha256Hex(password), at, row.site_id]);
    return { ok: true, siteId: row.site_id, password, undo: { tokenHash: hash, siteId: row.site_id, ...before } };
  });
}

/** What a redeem changed, so that it can be taken back when the broker could not be given the new password. */
export interface RedeemUndo {
  tokenHash: string;
  siteId: string;
  password_hash: string | null;
  enrolled_at: string | null;
}

/** The token can be used again and the site keeps the password it had: the enrolment never happened. */
export async function undoRedeem(sql: Sql, undo: RedeemUndo): Promise<void> {
  await sql.transaction(async (tx) => {
    await tx.run('UPDATE enroll_tokens SET used_at = NULL WHERE token_hash = ?', [undo.tokenHash]);
    await tx.run('UPDATE sites SET password_hash = ?, enrolled_at = ? WHERE id = ?', [undo.password_hash, undo.enrolled_at, undo.siteId]);
  });
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
