/** The HTTP side of the hub: health, metrics, the JSON API and the console. */
import { readFileSync } from 'node:fs';
import { constants as zlibConstants } from 'node:zlib';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyCompress from '@fastify/compress';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { HubConfig, Logger } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import type { Sql } from '../store/sql.js';
import type { HubMetrics } from '../metrics.js';
import { consoleRoutes } from './console.js';
import { enrollRoutes, type EnrollOptions } from './enroll.js';
import { healthRoutes } from './health.js';
import { siteRoutes } from './sites.js';
import type { ConsoleService } from '../console/service.js';
import type { RunningModule } from '../module.js';
import { fleetRoutes } from './fleet-routes.js';
import { sessionRoutes } from './session-routes.js';
import { siteDetailRoutes } from './site-detail-routes.js';
import { refuseNonFiniteNumbers } from './finite-numbers.js';

export interface ApiOptions extends EnrollOptions {
  config: HubConfig;
  db: Db;
  /** The store through the SQL facade: PostgreSQL or the same SQLite as `db` (the routes converted so far read it). */
  sql: Sql;
  logger: Logger;
  metrics: HubMetrics;
  /** The console's fleet cache and live stream. */
  console: ConsoleService;
  /** The started modules (alerts, backups…): each one's routes go in a plugin context of their own. */
  modules: readonly RunningModule[];
}

/** Per-request lines at debug (Prometheus scrapes would flood journald); errors keep their level. */
class QuietRequests extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: request.url }, 'incoming request');
  }
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ err: error, url: request.url, statusCode: reply.statusCode }, `request ${request.method} ${request.url} failed: ${error.message}`);
    else reply.log.debug({ url: request.url, statusCode: reply.statusCode, responseTime: reply.elapsedTime }, 'request completed');
  }
}

/**
 * Every group of routes, the API's own and each started module's, is a fastify plugin of its own
 * (encapsulated): a hook or decorator one adds stays inside it. What all share (the number check)
 * is registered on the root before them.
 */
export function buildApi(opts: ApiOptions): FastifyInstance {
  const { config, db } = opts;
  const tls = config.http.tls;
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'http' }),
    logController: new QuietRequests(),
    bodyLimit: 64 * 1024,
    // Only the configured reverse proxy may name the client (X-Forwarded-For): the audit log and the
    // login throttle then see the person's address, not the proxy's; anyone else's header is ignored.
    trustProxy: config.http.trustProxy ?? false,
    ...(tls ? { https: { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } } : {}),
  }) as unknown as FastifyInstance;
  refuseNonFiniteNumbers(app);
  void app.register(fastifyCookie);
  // The login form posts without JavaScript (application/x-www-form-urlencoded).
  void app.register(fastifyFormbody, { bodyLimit: 4096 });
  // The fleet JSON is ~64 KB and ~4 KB gzipped: on a 2 Mbit/s provincial link that is the page's load time.
  // The live stream (hijacked) and small answers stay as they are.
  void app.register(fastifyCompress, { global: true, threshold: 1024, encodings: ['br', 'gzip', 'deflate'], brotliOptions: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } } });
  app.addHook('onSend', async (req, reply) => {
    // HSTS only where the browser came over HTTPS (the hub's own TLS, or the trusted proxy's X-Forwarded-Proto).
    if (req.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000');
  });
  // Every route group is a plugin registered after cookie and compress, so that their hooks
  // (compression, cookie parsing) apply to every route.
  const groups: RunningModule[] = [
    { name: 'health', routes: (scope) => healthRoutes(scope, opts.sql, opts.metrics) },
    { name: 'sites', routes: (scope) => siteRoutes(scope, db, opts.sql, config) },
    { name: 'enroll', routes: (scope) => enrollRoutes(scope, opts.sql, opts) },
    { name: 'console', routes: (scope) => consoleRoutes(scope, db, config, opts.console) },
    { name: 'sessions', routes: (scope) => sessionRoutes(scope, db, config, opts.console.throttle) },
    { name: 'fleet', routes: (scope) => fleetRoutes(scope, db, opts.console) },
    { name: 'site-detail', routes: (scope) => siteDetailRoutes(scope, db) },
    ...opts.modules,
  ];
  for (const { name, routes } of groups) {
    if (!routes) continue;
    const plugin = async (scope: FastifyInstance) => routes(scope);
    // The name fastify shows for the plugin (app.printPlugins(), errors).
    Object.defineProperty(plugin, 'name', { value: `sentinela-${name}` });
    app.register(plugin);
  }
  return app;
}
