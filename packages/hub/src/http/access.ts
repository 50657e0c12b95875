/**
 * Who is asking, and may they: a console session (cookie) or an API token (bearer), each
 * with a role. State-changing requests with a session must carry the session's CSRF token
 * in `x-csrf-token`; bearer tokens are not sent by browsers on their own, so they need none.
 * Every refusal of a known principal is written to the audit log.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfPasses, foreignOrigin as foreignOriginOf, SESSION_COOKIE_OPTIONS, type HubConfig } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { apiTokenAuth } from '../store/tokens.js';
import { audit } from '../users/audit.js';
import { roleAllows, type Role } from '../users/roles.js';
import { findSession } from '../users/sessions.js';

export const SESSION_COOKIE = 'sentinela_session';
export const LANG_COOKIE = 'sentinela_lang';

export interface Principal {
  kind: 'session' | 'token';
  name: string;
  role: Role;
  csrf: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

const HINT = 'send "Authorization: Bearer <token>" (an admin creates one with "sentinela-hub tokens add --name NAME --role viewer") or log in at /login';

/** A cookie of the request (parsed by @fastify/cookie); one that did not decode is as good as none. */
export function readCookie(req: FastifyRequest, name: string): string | null {
  const v = req.cookies[name];
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** The Secure flag: on when the hub speaks HTTPS or sits behind an https publicUrl (a TLS proxy). */
export function secureCookies(config: HubConfig): boolean {
  const mode = config.console.secureCookies;
  if (mode !== 'auto') return mode === 'always';
  return Boolean(config.http.tls) || (config.http.publicUrl?.startsWith('https:') ?? false);
}

/** Sets a cookie the console's way: whole site, SameSite=Strict, HttpOnly unless asked, Secure when served over TLS. */
export function setCookie(reply: FastifyReply, config: HubConfig, name: string, value: string, opts: { maxAgeSec?: number; httpOnly?: boolean } = {}): void {
  reply.setCookie(name, value, {
    ...SESSION_COOKIE_OPTIONS,
    httpOnly: opts.httpOnly !== false,
    secure: secureCookies(config),
    ...(opts.maxAgeSec !== undefined ? { maxAge: opts.maxAgeSec } : {}),
  });
}

export type Identify = { ok: true; principal: Principal } | { ok: false; error: string };

export function identify(db: Db, req: FastifyRequest): Identify | null {
  const header = req.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const tok = m ? apiTokenAuth(db, m[1]!) : null;
    if (!tok) return { ok: false, error: `unknown API token: ${HINT}` };
    return { ok: true, principal: { kind: 'token', name: `token:${tok.name}`, role: tok.role, csrf: null } };
  }
  const sid = readCookie(req, SESSION_COOKIE);
  if (!sid) return null;
  const s = findSession(db, sid);
  if (!s) return { ok: false, error: 'your session has ended; log in again at /login' };
  return { ok: true, principal: { kind: 'session', name: s.name, role: s.role, csrf: s.csrf } };
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A browser always sends Origin on a cross-site POST: refuse one that is not this hub (the shared scheme's rule). */
export function foreignOrigin(req: FastifyRequest): boolean {
  // req.host: the Host header, or X-Forwarded-Host from the trusted proxy (http.trustProxy).
  return foreignOriginOf(req.headers.origin, req.host);
}

/** A preHandler: 401 without a principal, 403 without the role or (sessions) the CSRF token. */
export function requireRole(db: Db, need: Role, action?: string) {
  return async function (req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const who = identify(db, req);
    if (!who) {
      await reply.code(401).send({ error: `an API token is required: ${HINT}` });
      return;
    }
    if (!who.ok) {
      req.log.warn({ remote: req.ip, url: req.url }, `API request from ${req.ip} refused: ${who.error}`);
      await reply.code(401).send({ error: who.error });
      return;
    }
    const p = who.principal;
    if (p.kind === 'session' && !SAFE.has(req.method)) {
      const sent = req.headers['x-csrf-token'];
      if (!csrfPasses(sent, p.csrf, req.headers.origin, req.host)) {
        audit(db, { actor: p.name, role: p.role, action: action ?? `${req.method} ${req.routeOptions.url}`, target: req.url, ok: false, ip: req.ip, detail: { reason: 'csrf' } });
        await reply.code(403).send({ error: 'missing or wrong CSRF token (x-csrf-token): reload the page and try again', code: 'err_csrf', params: {} });
        return;
      }
    }
    if (!roleAllows(p.role, need)) {
      audit(db, { actor: p.name, role: p.role, action: action ?? `${req.method} ${req.routeOptions.url}`, target: req.url, ok: false, ip: req.ip, detail: { reason: 'role', need } });
      await reply.code(403).send({ error: `this needs the ${need} role; ${p.name} is ${p.role}`, code: 'err_role', params: { need, name: p.name, role: p.role } });
      return;
    }
    req.principal = p;
  };
}
