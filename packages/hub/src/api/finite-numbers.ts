/**
 * Fastify's validator (ajv, coercing query strings) turns "1e309" into Infinity and lets it through
 * an integer schema with a maximum; SQLite then refuses it and the request ended in a 500. Every
 * number in a query string or path must be finite: anything else is the client's mistake, a 400.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export function refuseNonFiniteNumbers(app: FastifyInstance): void {
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    for (const [where, values] of [['querystring', req.query], ['params', req.params]] as const) {
      if (!values || typeof values !== 'object') continue;
      for (const [key, value] of Object.entries(values)) {
        if (typeof value === 'number' && !Number.isFinite(value)) {
          await reply.code(400).send({ error: `${where}/${key} must be a finite number` });
          return reply;
        }
      }
    }
    return undefined;
  });
}
