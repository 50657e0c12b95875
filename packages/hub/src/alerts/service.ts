/**
 * Alerting as a service of its own: it follows the fleet core's change feed (the sites that changed
 * are evaluated within a poll of their messages being committed), evaluates every site every
 * `alerts.evaluateSeconds`, and tells its listeners (the console) after each evaluation which
 * sites it looked at and whether any alert changed, so a page redraws once for both.
 */
import type { HubConfig, Logger } from '@sentinela/shared';
import type { FastifyInstance } from 'fastify';
import type { ChangeFeed } from '../core/change-feed.js';
import type { Db } from '../store/db.js';
import type { RunningModule } from '../module.js';
import { AlertEngine, type AlertEngineOptions, type Changes } from './engine.js';
import { alertRoutes } from './routes.js';
import { Webhook } from './webhook.js';

export interface Evaluated {
  sites: Set<string>;
  /** An alert was raised, updated, cleared or acknowledged. */
  alertsChanged: boolean;
  /** Every site was evaluated (the periodic pass): a listener rebuilds rather than refreshes. */
  all: boolean;
}

export interface AlertService extends RunningModule {
  readonly engine: AlertEngine;
  /** `fn` hears every evaluation, and every change made by a person (an acknowledgement). */
  onEvaluated(fn: (e: Evaluated) => void): void;
  /** Evaluates these sites now (a cool-down began or ended, a maintenance window changed). */
  evaluate(siteIds: Iterable<string>): void;
  /** These sites' alerts changed without an evaluation (an acknowledgement). */
  changed(siteIds: Iterable<string>): void;
  routes(app: FastifyInstance): void;
  close(): void;
}

const changedAny = (c: Changes) => c.raised + c.cleared + c.updated > 0;

export function startAlerts(
  db: Db,
  config: HubConfig,
  logger: Logger,
  feed: ChangeFeed,
  opts: { cooldownOf?: AlertEngineOptions['cooldownOf']; webhook?: Webhook } = {},
): AlertService {
  const log = logger.child({ component: 'alerts' });
  const engine = new AlertEngine({
    db,
    config,
    logger,
    webhook: opts.webhook ?? new Webhook(config.alerts.webhookUrl, config.hubId, logger),
    ...(opts.cooldownOf ? { cooldownOf: opts.cooldownOf } : {}),
  });
  const listeners: Array<(e: Evaluated) => void> = [];
  const tell = (e: Evaluated) => listeners.forEach((fn) => fn(e));
  const safely = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      // A locked or closing database must not take the hub down; the next pass tries again.
      log.warn({ err: (err as Error).message }, `alert ${what} failed: ${(err as Error).message}`);
    }
  };
  const evaluate = (ids: Iterable<string>) =>
    safely('evaluation', () => {
      const sites = new Set(ids);
      tell({ sites, alertsChanged: changedAny(engine.evaluateSites(sites)), all: false });
    });
  feed.subscribe(evaluate);
  const full = () =>
    safely('evaluation', () => {
      const c = engine.evaluateAll();
      tell({ sites: c.sites, alertsChanged: changedAny(c), all: true });
    });
  const periodic = setInterval(full, config.alerts.evaluateSeconds * 1000);
  periodic.unref();
  const first = setImmediate(full);

  const changed = (ids: Iterable<string>) => safely('notice', () => tell({ sites: new Set(ids), alertsChanged: true, all: false }));
  return {
    name: 'alerts',
    engine,
    onEvaluated: (fn) => void listeners.push(fn),
    evaluate,
    changed,
    routes: (app: FastifyInstance) => alertRoutes(app, db, { changed }),
    close() {
      clearInterval(periodic);
      clearImmediate(first);
    },
  };
}
