/** Every module of the hub: where a new feature registers (its migrations here, its start in hub.ts). */
import type { HubModule } from './module.js';
import { backupsModule } from './backups/module.js';

export const HUB_MODULES: readonly HubModule[] = [backupsModule];
