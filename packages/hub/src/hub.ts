/**
 * startHub: wires the store, ingest, one MQTT transport (embedded aedes, or a client of an
 * external broker when `externalBroker` is set) and the HTTP API.
 */
import type { AckMessage, HubConfig, Logger } from '@sentinela/shared';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded.js';
import { startExternalIngest, type ExternalIngest } from './broker/external.js';
import { startCredentialSweep, type CredentialSweep } from './broker/credential-sweep.js';
import { Ingest } from './ingest/ingest.js';
import { HubMetrics } from './metrics.js';
import { Refusals } from './limits/refusals.js';
import { buildApi } from './api/server.js';
import { siteState, SITE_STATES, type SiteState } from './core/site-view.js';
import { openHubStore } from './database.js';
import type { Db } from './store/db.js';
import type { SqlStore } from './store/sql.js';
import { KnownSites } from './store/known-sites.js';
import { markAllDisconnected } from './store/sites.js';
import { startConsole, type ConsoleService } from './console/service.js';
import { ChangeFeed } from './core/change-feed.js';
import { startAlerts, type AlertService } from './alerts/service.js';
import { usersModule } from './users/module.js';
import { startBackups, type HubBackups } from './backups/service.js';
import { startRelays, startUpstream, type Relays, type Upstream } from './upstream/index.js';

export interface Hub {
  /** The MQTT port agents use: the embedded broker's bound port, or the external broker's. */
  mqttPort: number;
  httpPort: number;
  broker: 'embedded' | 'external';
  /** The SQLite file: the whole store, or with store.kind postgres the parts not yet on PostgreSQL. */
  db: Db;
  /** The store through the SQL facade: PostgreSQL, or the same SQLite file. */
  sql: SqlStore;
  ingest: Ingest;
  metrics: HubMetrics;
  /** The off-site backup store and its sync receiver. */
  backups: HubBackups;
  /** Upstream mirroring: the MoH end (relays) and, with hub.yaml `upstream:`, the DPS end. */
  relays: Relays;
  upstream: Upstream | null;
  close(): Promise<void>;
}

/** Waits for `p` at most `ms`; shutdown must finish even when a peer never answers. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

export async function startHub(config: HubConfig, logger: Logger): Promise<Hub> {
  const store = await openHubStore(config);
  const { db, sql } = store;
  const metrics = new HubMetrics();
  const refusals = new Refusals(logger.child({ component: 'mqtt' }), metrics, config.mqtt.noisySites);
  let transport: EmbeddedBroker | ExternalIngest | null = null;
  const ingest = new Ingest({
    ...(sql.dialect === 'postgres' ? { sql } : { db }),
    logger,
    metrics,
    commitIntervalMs: config.store.commitIntervalMs,
    notice: (key, fields, text) => refusals.notice(key, fields, text),
    maxSeqJump: config.mqtt.maxSeqJump,
    maxClockAheadSeconds: config.mqtt.maxClockAheadSeconds,
    publishAck: (siteId: string, ack: AckMessage) =>
      transport ? transport.publishAck(siteId, ack) : Promise.reject(new Error('no MQTT transport')),
  });

  const backups = startBackups(config, db, logger);
  const relays = startRelays(config, db, logger, metrics, backups.receiver);
  let upstream: Upstream | null = null;
  let embedded: EmbeddedBroker | null = null;
  let external: ExternalIngest | null = null;
  let sweep: CredentialSweep | null = null;
  let api: ReturnType<typeof buildApi> | null = null;
  let consoleSvc: ConsoleService | null = null;
  let feed: ChangeFeed | null = null;
  let alerts: AlertService | null = null;
  try {
    if (config.externalBroker) {
      transport = external = startExternalIngest({ config, sites: new KnownSites(sql), ingest, logger, metrics, refusals });
    } else {
      // Nobody can be connected to a broker that was not running: every agent reconnects with a birth.
      const reset = markAllDisconnected(db) - relays.restoreLinks();
      if (reset > 0) logger.info({ sites: reset }, `${reset} sites marked disconnected until their agents reconnect`);
      transport = embedded = await startEmbeddedBroker({ config, db, ingest, logger, metrics, refusals, sync: backups.receiver, gate: relays.gate });
      const broker = embedded;
      backups.receiver.publish = relays.receiver.publish = (topic, payload) => broker.publishDown(topic, payload);
    }
    const stateQuery = db.prepare('SELECT last_seen_at, connected FROM sites');
    metrics.addGauges(
      () => embedded?.connectedClients() ?? 0,
      () => {
        const counts = Object.fromEntries(SITE_STATES.map((s) => [s, 0])) as Record<SiteState, number>;
        const now = Date.now();
        for (const row of stateQuery.all() as Array<{ last_seen_at: string | null; connected: number }>) counts[siteState(row, config.sites, now)]++;
        return counts;
      },
    );
    feed = new ChangeFeed(db);
    alerts = startAlerts(db, config, logger, feed, { cooldownOf: (site) => refusals.cooldownOf(site) });
    consoleSvc = startConsole(db, config, logger, alerts);
    const alertsRef = alerts;
    refusals.onCooldown = (site) => alertsRef.evaluate([site]);
    const log = logger.child({ component: 'console' });
    feed.start(1000, (err) => log.warn({ err: err.message }, `change poll failed: ${err.message}`));
    api = buildApi({
      console: consoleSvc,
      modules: [alerts, backups, usersModule(db)],
      config,
      db,
      sql,
      logger,
      metrics,
      mqtt: { port: transport.port, tls: transport.tls },
      onEnrolled: (siteId) => embedded?.disconnectSite(siteId),
      ...(external?.dynsec ? { provision: (siteId: string, password: string) => external!.dynsec!.provisionSite(siteId, password) } : {}),
    });
    // After the API's plugins (cookie, compress) have loaded, so that their hooks see every route.
    await api.after();
    const live = embedded;
    sweep = startCredentialSweep(
      sql,
      live ? { disconnectSite: (id, reason) => live.disconnectSite(id, reason) } : { dynsec: external?.dynsec ?? null },
      config.externalBroker?.sweepSeconds ?? 30,
      logger,
    );
    await api.listen({ port: config.http.listen.port, host: config.http.listen.host });
    upstream = startUpstream(config, db, backups, logger);
  } catch (err) {
    await sweep?.close();
    feed?.close();
    alerts?.close();
    consoleSvc?.close();
    refusals.close();
    await api?.close().catch(() => undefined);
    await transport?.close().catch(() => undefined);
    await relays.close();
    await store.close();
    throw err;
  }
  const httpAddress = api.server.address();
  const httpPort = typeof httpAddress === 'object' && httpAddress ? httpAddress.port : config.http.listen.port;
  const mqttPort = transport.port;
  const broker = embedded ? 'embedded' : 'external';
  logger.info({ hubId: config.hubId, mqttPort, httpPort, broker }, 'hub ready');

  let closing: Promise<void> | null = null;
  const apiRef = api;
  const transportRef = transport;
  const consoleRef = consoleSvc!;
  const sweepRef = sweep!;
  const feedRef = feed!;
  const alertsRef = alerts!;
  return {
    mqttPort,
    httpPort,
    broker,
    db,
    sql,
    ingest,
    metrics,
    backups,
    relays,
    upstream,
    close() {
      closing ??= (async () => {
        logger.info('hub stopping');
        await within(upstream?.close() ?? Promise.resolve(), 5000);
        feedRef.close();
        alertsRef.close();
        consoleRef.close(); // ends the live streams, which would hold the HTTP server open
        backups.close();
        await within(sweepRef.close(), 5000);
        await within(apiRef.close(), 5000);
        // Commit and ack what is pending while the clients are still there…
        await within(ingest.flush(), 5000);
        // …then close the broker (aedes publishes the clients' wills into ingest)…
        await within(transportRef.close(), 5000);
        // …and commit those last.
        await within(ingest.close(), 2000);
        await within(relays.close(), 2000);
        refusals.close();
        await store.close();
        logger.info('hub stopped');
      })();
      return closing;
    },
  };
}
