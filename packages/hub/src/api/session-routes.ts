/**
 * POST /api/v1/session {name, password}: log in (sets the HttpOnly session cookie, returns the
 * CSRF token); GET: who am I; DELETE: log out. Wrong passwords are throttled per user name and
 * per address (429 + Retry-After), and every attempt is audited.
 */
import type { FastifyInstance } from 'fastify';
import type { HubConfig } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { audit } from '../users/audit.js';
import { decoyHash, verifyPassword } from '../users/password.js';
import { createSession, deleteSession } from '../users/sessions.js';
import type { LoginThrottle } from '../users/throttle.js';
import { getUser } from '../users/users.js';
import { cookie, foreignOrigin, readCookie, requireRole, SESSION_COOKIE } from '../http/access.js';
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
      const { name, password } = req.body;
      if (foreignOrigin(req)) return reply.code(403).send({ error: 'login from another site refused' });
      const wait = throttle.waitMs(name, req.ip);
      if (wait > 0) {
        audit(db, { actor: name, action: 'login', ok: false, ip: req.ip, detail: { reason: 'throttled', waitMs: wait } });
        const sec = Math.ceil(wait / 1000);
        return reply.code(429).header('retry-after', String(sec)).send({ error: `too many wrong passwords; try again in ${sec} s` });
      }
      const user = getUser(db, name);
      // A missing user costs the same scrypt as a wrong password: no user enumeration by timing.
      const ok = (await verifyPassword(password, user?.password_hash ?? (await decoyHash()))) && user !== undefined && user.disabled === 0;
      if (!ok || !user) {
        throttle.failed(name, req.ip);
        audit(db, { actor: name, action: 'login', ok: false, ip: req.ip, detail: { reason: 'wrong name or password' } });
        req.log.warn({ user: name, remote: req.ip }, `console login of ${name} from ${req.ip} refused: wrong name or password`);
        return reply.code(401).send({ error: 'wrong user name or password' });
      }
      throttle.succeeded(name);
      const s = createSession(db, user.id, config.console.sessionHours, req.ip);
      audit(db, { actor: user.name, role: user.role, action: 'login', ok: true, ip: req.ip });
      reply.header('set-cookie', cookie(config, SESSION_COOKIE, s.token, { maxAgeSec: Math.round(config.console.sessionHours * 3600) }));
      return { name: user.name, role: user.role, csrf: s.csrf, kind: 'session' };
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
    reply.header('set-cookie', cookie(config, SESSION_COOKIE, '', { maxAgeSec: 0 }));
    return { ok: true };
  });
}
