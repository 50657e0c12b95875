/**
 * The console's moving parts: the fleet cache, the alert engine, the change watcher and the
 * live event stream, with their timers. Started by the hub beside the API, closed before the database.
 */
import type { HubConfig, Logger } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { AlertEngine, type AlertEngineOptions } from '../alerts/engine.js';
import { Webhook } from '../alerts/webhook.js';
import { LoginThrottle } from '../users/throttle.js';
import { FleetCache } from './fleet.js';
import { LiveHub } from './live.js';
import { ChangeWatcher } from './watcher.js';

export interface ConsoleService {
  fleet: FleetCache;
  alerts: AlertEngine;
  live: LiveHub;
  throttle: LoginThrottle;
  /** After something changed outside ingest (an acknowledgement, a maintenance window). */
  touched(siteIds: Iterable<string>, reevaluate?: boolean): void;
  close(): void;
}

export function startConsole(db: Db, config: HubConfig, logger: Logger, opts: { pollMs?: number; cooldownOf?: AlertEngineOptions['cooldownOf'] } = {}): ConsoleService {
  const log = logger.child({ component: 'console' });
  const fleet = new FleetCache(db, config);
  const alerts = new AlertEngine({
    db,
    config,
    logger,
    webhook: new Webhook(config.alerts.webhookUrl, config.hubId, logger),
    ...(opts.cooldownOf ? { cooldownOf: opts.cooldownOf } : {}),
  });
  const live = new LiveHub();
  const watcher = new ChangeWatcher(db);
  fleet.rebuildAll();

  const publish = (sites: Set<string>, alertsChanged: boolean) => {
    if (alertsChanged) fleet.refreshAlerts();
    if (sites.size > 0 || alertsChanged) live.send('fleet', { sites: [...sites].slice(0, 200), alerts: alertsChanged });
  };

  const safely = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      // A locked or closing database must not take the hub down; the next tick tries again.
      log.warn({ err: (err as Error).message }, `console ${what} failed: ${(err as Error).message}`);
    }
  };

  const tick = setInterval(
    () =>
      safely('change poll', () => {
        const changed = watcher.poll();
        if (changed.size === 0) return;
        fleet.refresh(changed);
        const c = alerts.evaluateSites(changed);
        publish(changed, c.raised + c.cleared + c.updated > 0);
      }),
    opts.pollMs ?? 1000,
  );
  // The rebuild is done here, not by the next page that reads: at start-up (the first visit after a
  // start was 1.5 s at 2,000 sites) and whenever pages are open; with none open it waits for a reader.
  const full = (warm: boolean) =>
    safely('evaluation', () => {
      const c = alerts.evaluateAll();
      fleet.rebuildAll();
      if (warm || live.size > 0) fleet.warm();
      publish(c.sites, c.raised + c.cleared + c.updated > 0);
    });
  const periodic = setInterval(() => full(false), config.alerts.evaluateSeconds * 1000);
  tick.unref();
  periodic.unref();
  setImmediate(() => full(true));

  return {
    fleet,
    alerts,
    live,
    throttle: new LoginThrottle(),
    touched(siteIds, reevaluate = false) {
      const ids = new Set(siteIds);
      safely('refresh', () => {
        if (reevaluate) alerts.evaluateSites(ids);
        fleet.refresh(ids);
        publish(ids, true);
      });
    },
    close() {
      clearInterval(tick);
      clearInterval(periodic);
      live.close();
    },
  };
}
