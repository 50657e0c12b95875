/**
 * GET /assets/:file: the console's scripts and styles, and uPlot from node_modules. Every
 * asset comes from the hub itself (no CDN): the console works on a network with no internet.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** The browser files live beside the TypeScript sources (tsc copies nothing): packages/hub/src/console/static. */
const STATIC = fileURLToPath(new URL('../../src/console/static/', import.meta.url));
const require = createRequire(import.meta.url);

const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

function load(): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  const add = (name: string, path: string) => files.set(name, { body: readFileSync(path), type: TYPES[name.split('.').pop()!]! });
  for (const f of ['app.css', 'common.js', 'login.js', 'overview.js', 'site.js', 'alerts.js', 'admin.js']) add(f, STATIC + f);
  add('uPlot.js', require.resolve('uplot/dist/uPlot.iife.min.js'));
  add('uPlot.css', require.resolve('uplot/dist/uPlot.min.css'));
  return files;
}

export function assetRoutes(app: FastifyInstance): void {
  const files = load();
  app.get<{ Params: { file: string } }>(
    '/assets/:file',
    { schema: { params: { type: 'object', required: ['file'], properties: { file: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } } } } },
    async (req, reply) => {
      const f = files.get(req.params.file);
      if (!f) return reply.code(404).type('text/plain').send('no such asset');
      return reply.type(f.type).header('cache-control', 'public, max-age=300').send(f.body);
    },
  );
}
