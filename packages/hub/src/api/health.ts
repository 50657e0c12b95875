/** /healthz and /metrics: for systemd watchdogs, load balancers and Prometheus. */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../store/db.js';
import type { HubMetrics } from '../metrics.js';

export function healthRoutes(app: FastifyInstance, db: Db, metrics: HubMetrics): void {
  const ping = db.prepare('SELECT 1').pluck();
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
        ping.get();
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
