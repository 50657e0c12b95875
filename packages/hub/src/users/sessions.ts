/**
 * Console sessions, kept in the hub's table, in the scheme both programs share (shared
 * runtime/web-session.ts). The cookie holds 256 random bits; the table holds their SHA-256. Each
 * session has its own CSRF token, which every state-changing request must echo in a header
 * (synchroniser token), so a page on another origin cannot act with the user's cookie.
 */
import { newSecret, randomToken, sha256Hex } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import type { Role } from './roles.js';

export interface Session {
  userId: number;
  name: string;
  role: Role;
  csrf: string;
  expiresAt: string;
}

export function createSession(db: Db, userId: number, hours: number, ip: string, now = new Date()): { token: string; csrf: string; expiresAt: string } {
  const token = randomToken(32, 'ses_');
  const csrf = newSecret();
  const expiresAt = new Date(now.getTime() + hours * 3600_000).toISOString();
  db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now.toISOString());
  db.prepare('INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at, ip) VALUES (?, ?, ?, ?, ?, ?)').run(
    sha256Hex(token),
    userId,
    csrf,
    now.toISOString(),
    expiresAt,
    ip,
  );
  return { token, csrf, expiresAt };
}

export function findSession(db: Db, token: string, now = new Date()): Session | null {
  const row = db
    .prepare(
      `SELECT s.user_id AS userId, u.name, u.role, s.csrf, s.expires_at AS expiresAt FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0`,
    )
    .get(sha256Hex(token), now.toISOString()) as Session | undefined;
  return row ?? null;
}

export function deleteSession(db: Db, token: string): void {
  db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(sha256Hex(token));
}
