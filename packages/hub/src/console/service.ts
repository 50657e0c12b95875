/**
 * The console's moving parts: the fleet cache and the live event stream. It follows the alert
 * service (which follows the core's change feed): after each evaluation it refreshes the sites
 * that changed and tells every open page once. Started by the hub beside the API, closed before
 * the database.
 */
import type { HubConfig, Logger } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import type { AlertService } from '../alerts/service.js';
import { LoginThrottle } from '../users/throttle.js';
import { FleetCache } from './fleet.js';
import { LiveHub } from './live.js';

export interface ConsoleService {
  fleet: FleetCache;
  live: LiveHub;
  throttle: LoginThrottle;
  close(): void;
}

export function startConsole(db: Db, config: HubConfig, logger: Logger, alerts: AlertService): ConsoleService {
  const log = logger.child({ component: 'console' });
  const fleet = new FleetCache(db, config);
  const live = new LiveHub();
  fleet.rebuildAll();
  // Warmed here, not by the next page that reads: at start-up (the first visit after a start was
  // 1.5 s at 2,000 sites) and after each full evaluation while pages are open.
  setImmediate(() => fleet.warm());

  alerts.onEvaluated(({ sites, alertsChanged, all }) => {
    try {
      if (all) {
        fleet.rebuildAll();
        if (live.size > 0) fleet.warm();
      } else fleet.refresh(sites);
      if (alertsChanged) fleet.refreshAlerts();
      if (sites.size > 0 || alertsChanged) live.send('fleet', { sites: [...sites].slice(0, 200), alerts: alertsChanged });
    } catch (err) {
      // A locked or closing database must not take the hub down; the next change tries again.
      log.warn({ err: (err as Error).message }, `console refresh failed: ${(err as Error).message}`);
    }
  });

  return {
    fleet,
    live,
    throttle: new LoginThrottle(),
    close() {
      live.close();
    },
  };
}
