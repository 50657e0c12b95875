/** Admin: GET/POST /api/v1/users, GET /api/v1/audit. */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../store/db.js';
import { audit, listAudit } from './audit.js';
import { createUser, listUsers, UserError } from './users.js';
import { requireRole } from '../http/access.js';
import { errorSchema } from '../http/schemas.js';

const loose = { type: 'object', additionalProperties: true } as const;

export function userRoutes(app: FastifyInstance, db: Db): void {
  app.get('/api/v1/users', { preHandler: requireRole(db, 'admin', 'users.list'), schema: { response: { 200: loose, 401: errorSchema, 403: errorSchema } } }, async () => ({ users: listUsers(db) }));

  app.post<{ Body: { name: string; role: string; password: string } }>(
    '/api/v1/users',
    {
      preHandler: requireRole(db, 'admin', 'users.add'),
      schema: {
        body: {
          type: 'object',
          required: ['name', 'role', 'password'],
          additionalProperties: false,
          properties: { name: { type: 'string', maxLength: 64 }, role: { type: 'string', enum: ['admin', 'operator', 'viewer'] }, password: { type: 'string', maxLength: 1024 } },
        },
        response: { 200: loose, 400: errorSchema, 401: errorSchema, 403: errorSchema, 409: errorSchema },
      },
    },
    async (req, reply) => {
      const p = req.principal!;
      try {
        const u = await createUser(db, req.body);
        audit(db, { actor: p.name, role: p.role, action: 'users.add', target: u.name, ok: true, ip: req.ip, detail: { role: u.role } });
        return { id: u.id, name: u.name, role: u.role, created_at: u.created_at };
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        audit(db, { actor: p.name, role: p.role, action: 'users.add', target: req.body.name, ok: false, ip: req.ip, detail: { error: err.message } });
        return reply.code(err.code === 'exists' ? 409 : 400).send({ error: err.message, code: `err_user_${err.code}`, params: { name: req.body.name } });
      }
    },
  );

  app.get<{ Querystring: { limit: number; before?: number } }>(
    '/api/v1/audit',
    {
      preHandler: requireRole(db, 'admin', 'audit.list'),
      schema: {
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 }, before: { type: 'integer', minimum: 1 } } },
        response: { 200: loose, 401: errorSchema, 403: errorSchema },
      },
    },
    async (req) => ({ entries: listAudit(db, req.query.limit, req.query.before) }),
  );
}
