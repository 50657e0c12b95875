/** The console's HTTP side, as one encapsulated plugin: its pages and its assets (the JSON it reads is under /api/v1). */
import type { FastifyInstance } from 'fastify';
import type { HubConfig } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import type { ConsoleService } from '../console/service.js';
import { assetRoutes } from '../console/assets.js';
import { pageRoutes } from '../console/pages.js';

export function consoleRoutes(app: FastifyInstance, db: Db, config: HubConfig, svc: ConsoleService): void {
  void app.register(async (scope) => {
    await assetRoutes(scope);
    pageRoutes(scope, db, config, svc);
  });
}
