/**
 * The site page's data: GET /api/v1/sites/:id/history (chart series), /outages (power, WAN and
 * hub-link outages) and /alerts. The backup catalogue and export are backups/routes.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../store/db.js';
import { getSite } from '../store/sites.js';
import { alertJson } from '../alerts/engine.js';
import { siteAlerts } from '../alerts/store.js';
import { outages, statusSeries } from '../core/history.js';
import { requireRole } from '../http/access.js';
import { errorSchema, siteIdParams } from '../http/schemas.js';

const loose = { type: 'object', additionalProperties: true } as const;
const days = { type: 'object', additionalProperties: false, properties: { days: { type: 'integer', minimum: 1, maximum: 90, default: 7 } } } as const;
const DAY = 86_400_000;

export function siteDetailRoutes(app: FastifyInstance, db: Db): void {
  const viewer = requireRole(db, 'viewer');
  const missing = (id: string) => ({ error: `there is no site ${id}` });

  app.get<{ Params: { id: string }; Querystring: { days: number } }>(
    '/api/v1/sites/:id/history',
    { preHandler: viewer, schema: { params: siteIdParams, querystring: days, response: { 200: loose, 401: errorSchema, 404: errorSchema } } },
    async (req, reply) => {
      if (!getSite(db, req.params.id)) return reply.code(404).send(missing(req.params.id));
      return { siteId: req.params.id, ...statusSeries(db, req.params.id, new Date(Date.now() - req.query.days * DAY)) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { days: number } }>(
    '/api/v1/sites/:id/outages',
    { preHandler: viewer, schema: { params: siteIdParams, querystring: days, response: { 200: loose, 401: errorSchema, 404: errorSchema } } },
    async (req, reply) => {
      const site = getSite(db, req.params.id);
      if (!site) return reply.code(404).send(missing(req.params.id));
      return { siteId: site.id, ...outages(db, site.id, new Date(Date.now() - req.query.days * DAY), new Date(), site.connected === 1) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/sites/:id/alerts',
    { preHandler: viewer, schema: { params: siteIdParams, response: { 200: loose, 401: errorSchema, 404: errorSchema } } },
    async (req, reply) => {
      if (!getSite(db, req.params.id)) return reply.code(404).send(missing(req.params.id));
      return { siteId: req.params.id, alerts: siteAlerts(db, req.params.id, 200).map(alertJson) };
    },
  );
}
