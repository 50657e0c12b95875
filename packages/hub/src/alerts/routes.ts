/** Alerts and maintenance windows: GET /api/v1/alerts; POST /api/v1/alerts/:id/ack (operator); GET/POST/DELETE /api/v1/maintenance (operator to change). */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../store/db.js';
import { siteExists } from '../store/sites.js';
import { alertJson } from './engine.js';
import { ackAlert, addMaintenance, currentMaintenance, deleteMaintenance, getAlert, openAlertsPage } from './store.js';
import type { Severity } from './rules.js';
import { audit } from '../users/audit.js';
import { requireRole } from '../http/access.js';
import { errorSchema } from '../http/schemas.js';

const loose = { type: 'object', additionalProperties: true } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;

export function alertRoutes(app: FastifyInstance, db: Db, svc: { changed(siteIds: Iterable<string>): void }): void {
  // Paged: at 2,000 sites the open alerts were one 555 KB table; `counts` gives the totals per severity.
  app.get<{ Querystring: { severity?: Severity; offset: number; limit: number } }>(
    '/api/v1/alerts',
    {
      preHandler: requireRole(db, 'viewer'),
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            severity: { type: 'string', enum: ['critical', 'warning', 'info'] },
            offset: { type: 'integer', minimum: 0, default: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: { 200: loose, 400: errorSchema, 401: errorSchema },
      },
    },
    async (req) => {
      const { severity, offset, limit } = req.query;
      const page = openAlertsPage(db, { ...(severity ? { severity } : {}), offset, limit });
      const matched = severity ? page.counts[severity] : page.counts.critical + page.counts.warning + page.counts.info;
      return { alerts: page.alerts.map(alertJson), counts: page.counts, matched, offset, limit, maintenance: currentMaintenance(db) };
    },
  );

  app.post<{ Params: { id: number } }>(
    '/api/v1/alerts/:id/ack',
    { preHandler: requireRole(db, 'operator', 'alert.ack'), schema: { params: idParams, response: { 200: loose, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema } } },
    async (req, reply) => {
      const p = req.principal!;
      const a = getAlert(db, req.params.id);
      if (!a) return reply.code(404).send({ error: `there is no alert ${req.params.id}`, code: 'err_no_alert', params: { id: req.params.id } });
      const ok = ackAlert(db, a.id, p.name);
      audit(db, { actor: p.name, role: p.role, action: 'alert.ack', target: `${a.site_id ?? 'hub'}/${a.rule}#${a.id}`, ok, ip: req.ip });
      if (!ok) return reply.code(409).send({ error: `alert ${a.id} is already ${a.cleared_at ? 'cleared' : 'acknowledged'}`, code: a.cleared_at ? 'err_alert_cleared' : 'err_alert_acked', params: { id: a.id } });
      if (a.site_id) svc.changed([a.site_id]);
      return alertJson(getAlert(db, a.id)!);
    },
  );

  app.get('/api/v1/maintenance', { preHandler: requireRole(db, 'viewer'), schema: { response: { 200: loose, 401: errorSchema } } }, async () => ({ maintenance: currentMaintenance(db) }));

  app.post<{ Body: { siteId?: string | null; startsAt?: string; endsAt: string; reason: string } }>(
    '/api/v1/maintenance',
    {
      preHandler: requireRole(db, 'operator', 'maintenance.add'),
      schema: {
        body: {
          type: 'object',
          required: ['endsAt', 'reason'],
          additionalProperties: false,
          properties: {
            siteId: { type: ['string', 'null'], pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
            startsAt: { type: 'string', format: 'date-time' },
            endsAt: { type: 'string', format: 'date-time' },
            reason: { type: 'string', minLength: 1, maxLength: 500 },
          },
        },
        response: { 200: loose, 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const p = req.principal!;
      const { siteId = null, reason } = req.body;
      if (siteId && !siteExists(db, siteId)) return reply.code(404).send({ error: `there is no site ${siteId}`, code: 'err_no_site', params: { site: siteId } });
      const startsAt = new Date(req.body.startsAt ?? Date.now()).toISOString();
      const endsAt = new Date(req.body.endsAt).toISOString();
      if (endsAt <= startsAt) return reply.code(400).send({ error: 'endsAt must be after startsAt', code: 'err_ends_before_start', params: {} });
      const m = addMaintenance(db, { siteId, startsAt, endsAt, reason, by: p.name });
      audit(db, { actor: p.name, role: p.role, action: 'maintenance.add', target: siteId ?? 'all sites', ok: true, ip: req.ip, detail: { startsAt, endsAt, reason } });
      return m;
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/api/v1/maintenance/:id',
    { preHandler: requireRole(db, 'operator', 'maintenance.delete'), schema: { params: idParams, response: { 200: loose, 401: errorSchema, 403: errorSchema, 404: errorSchema } } },
    async (req, reply) => {
      const p = req.principal!;
      const ok = deleteMaintenance(db, req.params.id);
      audit(db, { actor: p.name, role: p.role, action: 'maintenance.delete', target: String(req.params.id), ok, ip: req.ip });
      if (!ok) return reply.code(404).send({ error: `there is no maintenance window ${req.params.id}`, code: 'err_no_maintenance', params: { id: req.params.id } });
      return { ok: true };
    },
  );
}
