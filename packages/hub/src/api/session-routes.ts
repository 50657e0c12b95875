/**
 * POST /api/v1/session {name, password}: log in (sets the HttpOnly session cookie, returns the
 * CSRF token); GET: who am I; DELETE: log out. Wrong passwords are throttled per user name and
 * per address (429 + Retry-After), and every attempt is audited.
 */
import type { FastifyInstance } from 'fastify';
import type { HubConfig } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { audit } from '../users/audit.js';
import { deleteSession } from '../users/sessions.js';
import type { LoginThrottle } from '../users/throttle.js';
import { readCookie, requireRole, SESSION_COOKIE, setCookie } from '../http/access.js';
import { attemptLogin, loginError } from './login.js';
import { errorSchema } from '../http/schemas.js';

const me = {
  type: 'object',
  properties: { name: { type: 'string' }, role: { type: 'string' }, csrf: { type: ['string', 'null'] }, kind: { type: 'string' } },
} as const;

export function sessionRoutes(app: FastifyInstance, db: Db, config: HubConfig, throttle: LoginThrottle): void {
  app.post<{ Body: { name: string; password: string } }>(
    '/api/v1/session',
    {
      schema: {
        body: {
          type: 'object',
          required: ['name', 'password'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
        },
        response: { 200: me, 401: errorSchema, 403: errorSchema, 429: errorSchema },
      },
    },
    async (req, reply) => {
      const r = await attemptLogin(db, config, throttle, req, req.body.name, req.body.password);
      if (!r.ok) {
        if (r.code === 'login_wait') reply.header('retry-after', String(r.retryAfterSec));
        return reply.code(r.status).send({ error: loginError(r), code: r.code, params: r.code === 'login_wait' ? { s: r.retryAfterSec } : {} });
      }
      setCookie(reply, config, SESSION_COOKIE, r.token, { maxAgeSec: Math.round(config.console.sessionHours * 3600) });
      return { name: r.name, role: r.role, csrf: r.csrf, kind: 'session' };
    },
  );

  app.get('/api/v1/session', { preHandler: requireRole(db, 'viewer'), schema: { response: { 200: me, 401: errorSchema } } }, async (req) => ({
    name: req.principal!.name,
    role: req.principal!.role,
    csrf: req.principal!.csrf,
    kind: req.principal!.kind,
  }));

  app.delete('/api/v1/session', { preHandler: requireRole(db, 'viewer', 'logout'), schema: { response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } }, 401: errorSchema, 403: errorSchema } } }, async (req, reply) => {
    const sid = readCookie(req, SESSION_COOKIE);
    if (sid) deleteSession(db, sid);
    audit(db, { actor: req.principal!.name, role: req.principal!.role, action: 'logout', ok: true, ip: req.ip });
    setCookie(reply, config, SESSION_COOKIE, '', { maxAgeSec: 0 });
    return { ok: true };
  });
}
