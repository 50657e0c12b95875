/**
 * Upstream mirroring (docs/protocol.md, "Upstream mirroring"). Both ends live in every hub:
 * startRelays is the MoH end (relay principals in the broker, their batches), startUpstream the
 * DPS end (the log, the forwarder and the backup mirror), on when hub.yaml has `upstream:`.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { HubConfig, Logger } from '@sentinela/shared';
import type { SyncReceiver } from '../backups/receiver.js';
import type { HubBackups } from '../backups/service.js';
import type { HubMetrics } from '../metrics.js';
import type { Db } from '../store/db.js';
import { BackupMirror } from './backup-mirror.js';
import { Forwarder } from './forwarder.js';
import { gateRelays, type BrokerHooks } from './gate.js';
import { UpstreamLink } from './link.js';
import { UpstreamLog } from './log.js';
import { RelayReceiver } from './receiver.js';
import { RelayRegistry, restoreRelayedLinks } from './relays.js';
import { dropUpstreamLog } from './schema.js';

export interface Relays {
  registry: RelayRegistry;
  receiver: RelayReceiver;
  /** The broker hooks with relay principals let in (broker/embedded.ts). */
  gate(hooks: BrokerHooks): BrokerHooks;
  /** After the start-up reset: relayed sites get back the link state their relay last reported. */
  restoreLinks(): number;
  close(): Promise<void>;
}

export function startRelays(config: HubConfig, db: Db, logger: Logger, metrics: HubMetrics, sync: SyncReceiver): Relays {
  const registry = new RelayRegistry(db);
  const receiver = new RelayReceiver({
    db,
    registry,
    logger,
    metrics,
    commitIntervalMs: config.store.commitIntervalMs,
    maxPayloadBytes: config.mqtt.maxPayloadBytes,
    maxSeqJump: config.mqtt.maxSeqJump,
    maxClockAheadSeconds: config.mqtt.maxClockAheadSeconds,
  });
  return {
    registry,
    receiver,
    gate: (hooks) => gateRelays(hooks, { registry, receiver, sync, logger, metrics }),
    restoreLinks: () => restoreRelayedLinks(db),
    close: () => receiver.close(),
  };
}

export interface Upstream {
  log: UpstreamLog;
  forwarder: Forwarder;
  mirror: BackupMirror | null;
  close(): Promise<void>;
}

export function upstreamSecretPath(config: HubConfig): string {
  return config.upstream?.secretFile ?? join(config.dataDir, 'upstream.secret');
}

/** Reads the relay secret; a missing or world-readable file stops the hub with what to do. */
export function readUpstreamSecret(config: HubConfig): string {
  const path = upstreamSecretPath(config);
  let text: string;
  try {
    if (statSync(path).mode & 0o077) throw new Error(`the relay secret ${path} is readable by other users; run: chmod 600 ${path}`);
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(`upstream: no relay secret at ${path}; at the MoH hub run "sentinela-hub relays add --id ${config.upstream!.relayId} --province ${config.upstream!.province}", then here "sentinela-hub upstream enrol --secret-file FILE"`);
    throw err;
  }
  if (!text) throw new Error(`upstream: the relay secret file ${path} is empty`);
  return text;
}

/** The DPS end, or null (and no log kept) when hub.yaml has no `upstream:`. */
export function startUpstream(config: HubConfig, db: Db, backups: HubBackups, logger: Logger): Upstream | null {
  const cfg = config.upstream;
  if (!cfg) {
    dropUpstreamLog(db);
    return null;
  }
  const secret = readUpstreamSecret(config);
  const log = new UpstreamLog(db, cfg.relayId);
  const link = new UpstreamLink(cfg, secret, logger);
  const forwarder = new Forwarder(link, log, cfg, logger);
  const mirror = cfg.backups.enabled ? new BackupMirror(link, db, backups.store, config.dataDir, cfg, logger) : null;
  logger.info({ url: cfg.url, relay: cfg.relayId, backlog: log.backlog() }, `mirroring to the MoH hub ${cfg.url} as relay ${cfg.relayId} (${log.backlog()} items waiting)`);
  return {
    log,
    forwarder,
    mirror,
    async close() {
      forwarder.close();
      mirror?.close();
      await link.close();
    },
  };
}
