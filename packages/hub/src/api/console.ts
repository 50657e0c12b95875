/** The console's HTTP side: its pages and its assets (the JSON it reads is under /api/v1). */
import type { FastifyInstance } from 'fastify';
import type { HubConfig } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { assetRoutes } from '../console/assets.js';
import { pageRoutes } from '../console/pages.js';

export function consoleRoutes(app: FastifyInstance, db: Db, config: HubConfig): void {
  pageRoutes(app, db, config);
  assetRoutes(app);
}
