/**
 * GET /api/v1/sites, /api/v1/sites/:id and /api/v1/sites/:id/events (viewer: bearer token or
 * console session). Read through the SQL facade `sql`: on PostgreSQL with several instances, every
 * instance answers from the one store. (Who may ask is still checked in `db`, SQLite.)
 */
import type { FastifyInstance } from 'fastify';
import type { HubConfig } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import type { Sql } from '../store/sql.js';
import { findSite, latestEvents, listSites, siteStreams } from '../store/sites.js';
import { requireRole } from '../http/access.js';
import { authHeader, errorSchema, siteIdParams, siteSchema } from '../http/schemas.js';
import { eventView, siteView } from '../core/site-view.js';

export function siteRoutes(app: FastifyInstance, db: Db, sql: Sql, config: HubConfig): void {
  const preHandler = requireRole(db, 'viewer');

  // Paged (by id): each site carries its latest status, and all 2,000 at once were 5.4 MB.
  app.get<{ Querystring: { offset: number; limit: number } }>(
    '/api/v1/sites',
    {
      preHandler,
      schema: {
        headers: authHeader,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { offset: { type: 'integer', minimum: 0, default: 0 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
        response: {
          200: { type: 'object', properties: { sites: { type: 'array', items: siteSchema }, total: { type: 'integer' }, offset: { type: 'integer' }, limit: { type: 'integer' } } },
          400: errorSchema,
          401: errorSchema,
        },
      },
    },
    async (req) => {
      const now = Date.now();
      const { offset, limit } = req.query;
      const { rows, total } = await listSites(sql, offset, limit);
      const sites = await Promise.all(rows.map(async (row) => siteView(row, await siteStreams(sql, row.id), config.sites, now)));
      return { sites, total, offset, limit };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/sites/:id',
    { preHandler, schema: { headers: authHeader, params: siteIdParams, response: { 200: siteSchema, 401: errorSchema, 404: errorSchema } } },
    async (req, reply) => {
      const row = await findSite(sql, req.params.id);
      if (!row) return reply.code(404).send({ error: `there is no site ${req.params.id}` });
      return siteView(row, await siteStreams(sql, row.id), config.sites);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit: number } }>(
    '/api/v1/sites/:id/events',
    {
      preHandler,
      schema: {
        headers: authHeader,
        params: siteIdParams,
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } } },
        response: {
          200: {
            type: 'object',
            properties: {
              siteId: { type: 'string' },
              events: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: true,
                  properties: { stream: { type: 'string' }, seq: { type: 'integer' }, ts: { type: 'string' }, receivedAt: { type: 'string' } },
                },
              },
            },
          },
          401: errorSchema,
          404: errorSchema,
        },
      },
    },
    async (req, reply) => {
      if (!(await findSite(sql, req.params.id))) return reply.code(404).send({ error: `there is no site ${req.params.id}` });
      return { siteId: req.params.id, events: (await latestEvents(sql, req.params.id, req.query.limit)).map(eventView) };
    },
  );
}
