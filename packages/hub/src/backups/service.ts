/** The hub's off-site backups: store, escrow key, sync receiver, API routes and the periodic verify + retention. */
import type { FastifyInstance } from 'fastify';
import type { HubConfig, Logger } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import type { RunningModule } from '../module.js';
import { loadOrCreateEscrowKey, type EscrowKeyPair } from './escrow.js';
import { SyncReceiver } from './receiver.js';
import { describeMaintenance, maintainBackups } from './maintain.js';
import { backupRoutes } from './routes.js';
import { HubBackupStore } from './store.js';

export interface HubBackups extends RunningModule {
  store: HubBackupStore;
  receiver: SyncReceiver;
  escrow: EscrowKeyPair;
  routes(app: FastifyInstance): void;
  /** Retention then keyless verify of every site (also run every backups.verifyEveryHours). */
  maintain(): Promise<void>;
  close(): void;
}

export function startBackups(config: HubConfig, db: Db, logger: Logger): HubBackups {
  const log = logger.child({ component: 'backups' });
  const store = new HubBackupStore(config.dataDir);
  const escrow = loadOrCreateEscrowKey(config.dataDir);
  const receiver = new SyncReceiver({ db, store, escrow, config: config.backups, logger, maxPayloadBytes: config.mqtt.maxPayloadBytes });
  const maintain = async () => {
    for (const r of await maintainBackups(db, store, config.backups)) {
      const d = describeMaintenance(r);
      log[d.level]({ site: r.site, forgotten: r.forgotten.length, pruned: r.prunedObjects, damaged: r.damaged, problems: r.problems.slice(0, 5) }, d.msg);
    }
  };
  const hours = config.backups.verifyEveryHours;
  const timer = hours > 0 ? setInterval(() => void maintain(), hours * 3600 * 1000) : null;
  timer?.unref();
  return {
    name: 'backups',
    store,
    receiver,
    escrow,
    routes: (app) => backupRoutes(app, db, config.dataDir, store, escrow),
    maintain,
    close: () => timer && clearInterval(timer),
  };
}
