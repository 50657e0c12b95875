/**
 * POST /api/v1/enroll {token}: the one-time token is the credential. It gives the agent its
 * MQTT username (the site id) and a new password; the previous password stops working.
 */
import type { FastifyInstance } from 'fastify';
import type { Sql } from '../store/sql.js';
import { redeemEnrollToken, undoRedeem } from '../store/tokens.js';
import { errorSchema } from '../http/schemas.js';

export interface EnrollOptions {
  mqtt: { port: number; tls: boolean };
  /** Called after a site got a new password (the broker drops its old connection). */
  onEnrolled?: (siteId: string) => void;
  /**
   * Gives an external broker the site's new password before the agent hears of it. If it throws,
   * the enrolment is undone (the token can be used again) and the agent is told to retry.
   */
  provision?: (siteId: string, password: string) => Promise<void>;
}

/** `sql`: the store (SQLite or PostgreSQL) through its facade. */
export function enrollRoutes(app: FastifyInstance, sql: Sql, opts: EnrollOptions): void {
  const newToken = (siteId: string) => `ask the hub admin for a new one (sentinela-hub sites token --id ${siteId})`;
  app.post<{ Body: { token: string } }>(
    '/api/v1/enroll',
    {
      schema: {
        body: { type: 'object', required: ['token'], properties: { token: { type: 'string', minLength: 1, maxLength: 256 } } },
        response: {
          200: {
            type: 'object',
            properties: {
              siteId: { type: 'string' },
              username: { type: 'string' },
              password: { type: 'string' },
              mqtt: { type: 'object', properties: { port: { type: 'integer' }, tls: { type: 'boolean' } } },
            },
          },
          401: errorSchema,
          409: errorSchema,
          410: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const r = await redeemEnrollToken(sql, req.body.token.trim());
      if (r.ok && opts.provision) {
        try {
          await opts.provision(r.siteId, r.password);
        } catch (err) {
          await undoRedeem(sql, r.undo);
          const msg = (err as Error).message;
          req.log.error({ site: r.siteId, remote: req.ip, err: msg }, `enrolment of site ${r.siteId} undone: the MQTT broker could not be given its account: ${msg}`);
          return reply.code(503).send({ error: `the hub could not create this site's account on its MQTT broker (${msg}); the token is still valid: try again in a minute` });
        }
      }
      if (r.ok) {
        req.log.info({ site: r.siteId, remote: req.ip }, `site ${r.siteId} enrolled from ${req.ip}; it has a new MQTT password`);
        opts.onEnrolled?.(r.siteId);
        return { siteId: r.siteId, username: r.siteId, password: r.password, mqtt: opts.mqtt };
      }
      req.log.warn({ remote: req.ip, reason: r.code, site: 'siteId' in r ? r.siteId : null }, `enrolment from ${req.ip} refused: ${r.code} token`);
      switch (r.code) {
        case 'used':
          return reply.code(409).send({ error: `this enrolment token was already used at ${r.at}; ${newToken(r.siteId)}` });
        case 'expired':
          return reply.code(410).send({ error: `this enrolment token expired at ${r.at}; ${newToken(r.siteId)}` });
        default:
          return reply.code(401).send({ error: 'unknown enrolment token: check that it was copied whole, or ask the hub admin for a new one (sentinela-hub sites token --id <site>)' });
      }
    },
  );
}
