/** The backups module: its schema steps (the snapshot catalogue and the escrowed keys). */
import type { HubModule } from '../module.js';
import { backupsDamageMigration, backupsMigration } from './catalogue.js';

export const backupsModule: HubModule = {
  name: 'backups',
  migrations: [
    { step: 3, up: backupsMigration },
    { step: 5, up: backupsDamageMigration },
  ],
};
