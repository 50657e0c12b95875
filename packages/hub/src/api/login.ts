/**
 * One login, two doors: the console's script posts JSON to /api/v1/session, a browser without
 * JavaScript posts the login form to /login. Both come here: the foreign-Origin check, the
 * throttle, the password, the session and the audit line, answered as a result (a code the page
 * words in its language), not as HTTP.
 */
import type { FastifyRequest } from 'fastify';
import type { HubConfig } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { audit } from '../users/audit.js';
import { decoyHash, verifyPassword } from '../users/password.js';
import type { Role } from '../users/roles.js';
import { createSession } from '../users/sessions.js';
import type { LoginThrottle } from '../users/throttle.js';
import { getUser } from '../users/users.js';
import { foreignOrigin } from '../http/access.js';

export type LoginResult =
  | { ok: true; name: string; role: Role; csrf: string; token: string }
  | { ok: false; status: 403; code: 'login_foreign' }
  | { ok: false; status: 429; code: 'login_wait'; retryAfterSec: number }
  | { ok: false; status: 401; code: 'login_wrong' };

export async function attemptLogin(db: Db, config: HubConfig, throttle: LoginThrottle, req: FastifyRequest, name: string, password: string): Promise<LoginResult> {
  if (foreignOrigin(req)) {
    // Someone else's page tried to log this browser in: worth a line in the audit log.
    audit(db, { actor: name, action: 'login', ok: false, ip: req.ip, detail: { reason: 'foreign origin', origin: String(req.headers.origin) } });
    req.log.warn({ user: name, remote: req.ip, origin: req.headers.origin }, `console login of ${name} from ${req.ip} refused: posted from another site (${String(req.headers.origin)})`);
    return { ok: false, status: 403, code: 'login_foreign' };
  }
  const wait = throttle.waitMs(name, req.ip);
  if (wait > 0) {
    audit(db, { actor: name, action: 'login', ok: false, ip: req.ip, detail: { reason: 'throttled', waitMs: wait } });
    return { ok: false, status: 429, code: 'login_wait', retryAfterSec: Math.ceil(wait / 1000) };
  }
  const user = getUser(db, name);
  // A missing user costs the same scrypt as a wrong password: no user enumeration by timing.
  const ok = (await verifyPassword(password, user?.password_hash ?? (await decoyHash()))) && user !== undefined && user.disabled === 0;
  if (!ok || !user) {
    throttle.failed(name, req.ip);
    audit(db, { actor: name, action: 'login', ok: false, ip: req.ip, detail: { reason: 'wrong name or password' } });
    req.log.warn({ user: name, remote: req.ip }, `console login of ${name} from ${req.ip} refused: wrong name or password`);
    return { ok: false, status: 401, code: 'login_wrong' };
  }
  throttle.succeeded(name, req.ip);
  const s = createSession(db, user.id, config.console.sessionHours, req.ip);
  audit(db, { actor: user.name, role: user.role, action: 'login', ok: true, ip: req.ip });
  return { ok: true, name: user.name, role: user.role, csrf: s.csrf, token: s.token };
}

/** The English sentence of a refusal, for API clients that are not the console. */
export function loginError(r: Exclude<LoginResult, { ok: true }>): string {
  if (r.code === 'login_foreign') return 'login from another site refused';
  if (r.code === 'login_wait') return `too many wrong passwords; try again in ${r.retryAfterSec} s`;
  return 'wrong user name or password';
}
