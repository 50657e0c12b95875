/** GET /api/v1/fleet (filtered, sorted, paged overview) and GET /api/v1/live (server-sent events). */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../store/db.js';
import type { ConsoleService } from '../console/service.js';
import type { FleetQuery } from '../console/fleet.js';
import { requireRole } from '../http/access.js';
import { errorSchema } from '../http/schemas.js';

const loose = { type: 'object', additionalProperties: true } as const;

export function fleetRoutes(app: FastifyInstance, db: Db, svc: ConsoleService): void {
  app.get<{ Querystring: FleetQuery }>(
    '/api/v1/fleet',
    {
      preHandler: requireRole(db, 'viewer'),
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            q: { type: 'string', maxLength: 100 },
            province: { type: 'string', maxLength: 100 },
            state: { type: 'string', enum: ['', 'online', 'degraded', 'stale', 'offline', 'never-seen', 'alerting', 'battery', 'rpo'] },
            sort: { type: 'string', enum: ['urgency', 'id', 'name', 'lastSeen', 'backup', 'province'], default: 'urgency' },
            offset: { type: 'integer', minimum: 0, default: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 5000, default: 100 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              counts: loose,
              alerts: loose,
              provinces: { type: 'array', items: { type: 'string' } },
              matched: { type: 'integer' },
              offset: { type: 'integer' },
              limit: { type: 'integer' },
              sites: { type: 'array', items: loose },
            },
          },
          401: errorSchema,
        },
      },
    },
    async (req) => svc.fleet.query(req.query),
  );

  app.get('/api/v1/live', { preHandler: requireRole(db, 'viewer') }, async (req, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    svc.live.add(reply.raw);
    req.raw.on('close', () => reply.raw.end());
  });
}
