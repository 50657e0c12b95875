/**
 * /healthz and /metrics: for systemd watchdogs, load balancers and Prometheus. /healthz asks the
 * store itself (PostgreSQL with store.kind postgres): an instance whose database is gone, or
 * failing over, answers 503 and the load balancer sends the console to another.
 */
import type { FastifyInstance } from 'fastify';
import type { Sql } from '../store/sql.js';
import type { HubMetrics } from '../metrics.js';

export function healthRoutes(app: FastifyInstance, sql: Sql, metrics: HubMetrics): void {
  app.get(
    '/healthz',
    {
      schema: {
        response: {
          200: { type: 'object', properties: { ok: { type: 'boolean' }, db: { type: 'string' } } },
          503: { type: 'object', properties: { ok: { type: 'boolean' }, db: { type: 'string' }, error: { type: 'string' } } },
        },
      },
    },
    async (_req, reply) => {
      try {
        await sql.one('SELECT 1 AS one');
        return { ok: true, db: 'ok' };
      } catch (err) {
        return reply.code(503).send({ ok: false, db: 'error', error: (err as Error).message });
      }
    },
  );
  app.get('/metrics', { schema: { response: { 200: { type: 'string' } } } }, async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
