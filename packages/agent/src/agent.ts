/** The running agent: outbox first, then sampling, then the link that drains the outbox to the hub. */
import os from 'node:os';
import {
  PROTOCOL_VERSION,
  RateLimitedLog,
  SENTINELA_VERSION,
  type AgentConfig,
  type Logger,
  type StatusMessage,
} from '@sentinela/shared';
import { Outbox } from './outbox/outbox.js';
import { sampleHost } from './health/sampler.js';
import { probeServices } from './health/service-probe.js';
import { ServiceWatch } from './health/service-watch.js';
import { HubLink } from './link/link.js';
import { readCredentials } from './enroll/credentials.js';
import { credentialsPath, outboxPath } from './paths.js';
import type { AgentContext, AgentModule, StatusSections } from './module.js';
import { createModules } from './modules.js';

/** A failing health sample is logged at most once per distinct failure in this window (10 minutes, as the outbox's thinning lines). */
const SAMPLE_FAILURE_LOG_MS = 10 * 60_000;

/** The site has no credentials file yet. The CLI turns this into exit code 2. */
export class NotEnrolledError extends Error {
  constructor(readonly credentialsFile: string) {
    super(
      `not enrolled yet: no credentials at ${credentialsFile}; run sentinela-agent enroll --config <agent.yaml> --hub http://HUB:PORT --token <token>`,
    );
    this.name = 'NotEnrolledError';
  }
}

/** site.id in the config and the enrolled site differ. Also exit code 2. */
export class SiteMismatchError extends Error {
  constructor(configured: string, enrolled: string, file: string) {
    super(`the config says site.id: ${configured} but ${file} is enrolled as "${enrolled}"; correct site.id or enrol again`);
    this.name = 'SiteMismatchError';
  }
}

export interface RunningAgent {
  readonly siteId: string;
  readonly outbox: Outbox;
  readonly link: HubLink;
  readonly modules: readonly AgentModule[];
  /** Takes one sample now (also what the interval timer does). */
  sampleNow(): Promise<void>;
  close(): Promise<void>;
}

export async function startAgent(config: AgentConfig, logger: Logger): Promise<RunningAgent> {
  const credFile = credentialsPath(config);
  const creds = readCredentials(credFile);
  if (!creds) throw new NotEnrolledError(credFile);
  if (config.site.id && config.site.id !== creds.siteId) throw new SiteMismatchError(config.site.id, creds.siteId, credFile);
  const siteId = creds.siteId;

  const outbox = Outbox.open({
    path: outboxPath(config),
    siteId,
    maxBytes: config.outbox.maxBytes,
    resendAfterSeconds: config.outbox.resendAfterSeconds,
    logger,
  });

  // A "running" mark left behind means the last run did not stop cleanly (a power cut, most often).
  const previousShutdown = outbox.getMeta('running') === '1' ? 'unclean' : outbox.getMeta('running') === '0' ? 'clean' : 'first-start';
  outbox.setMeta('running', '1');
  outbox.appendEvent('agent.started', 'info', `Sentinela agent ${SENTINELA_VERSION} started on ${os.hostname()}`, {
    version: SENTINELA_VERSION,
    hostname: os.hostname(),
    previousShutdown,
  });

  const link = new HubLink({
    url: config.hub.mqttUrl,
    siteId,
    username: creds.username,
    password: creds.password,
    caFile: config.hub.caFile,
    keepaliveSeconds: config.hub.keepaliveSeconds,
    connectTimeoutSeconds: config.hub.connectTimeoutSeconds,
    reconnectSeconds: config.hub.reconnectSeconds,
    inflight: config.outbox.inflight,
    drainPerSecond: config.outbox.drainPerSecond,
    outbox,
    logger,
  });

  const ctx: AgentContext = {
    config,
    siteId,
    logger,
    outbox,
    link,
    event(code, severity, message, data) {
      try {
        outbox.appendEvent(code, severity, message, data);
      } catch (err) {
        // A full disk (SQLITE_FULL) must not take down the module that raised the event: the
        // event is still in the journal, below, and the error says why the hub will not get it.
        logger.error({ code, err: (err as Error).message }, `event ${code} could not be queued for the hub: ${(err as Error).message}`);
      }
      (severity === 'info' ? logger.info : logger.warn).call(logger, { code, ...data }, message);
    },
    sampleNow: () => sampleNow(),
    modules: () => modules,
  };
  const modules = createModules(ctx);

  const watch = new ServiceWatch();
  let sampling: Promise<void> | null = null;
  let closed = false;

  const sampleOnce = async (): Promise<void> => {
    const [host, services, ...sections] = await Promise.all([
      sampleHost(),
      probeServices(config.sampling.services),
      ...modules.map((m) => (m.status ? Promise.resolve(m.status()).catch((err: Error) => {
        logger.error({ module: m.name, err: err.message }, `${m.name}: status section failed: ${err.message}`);
        return {} as StatusSections;
      }) : ({} as StatusSections))),
    ]);
    for (const ev of watch.update(services)) ctx.event(ev.code, ev.severity, ev.message, ev.data);
    const stats = outbox.stats();
    outbox.append('status', (seq, stream, ts): StatusMessage => ({
      v: PROTOCOL_VERSION,
      site: siteId,
      stream,
      seq,
      ts,
      type: 'status',
      host,
      services,
      outbox: stats,
      ...Object.assign({}, ...sections),
    }));
  };

  // A failure that lasts (a full disk fails every sample) is told once per failure and window, not at every sample.
  const sampleLog = new RateLimitedLog(logger, { perWindow: 1, windowMs: SAMPLE_FAILURE_LOG_MS });
  const sampleNow = (): Promise<void> => {
    // Never two samples at once: a slow probe must not pile up timers.
    sampling ??= sampleOnce()
      .catch((err: Error) => sampleLog.error(`health sample: ${err.message}`, { err: err.message }, `health sample failed: ${err.message}`))
      .finally(() => (sampling = null));
    return sampling;
  };


  link.start();
  for (const m of modules) await m.start();
  await sampleNow();
  const interval = setInterval(() => void sampleNow(), config.sampling.intervalSeconds * 1000);

  logger.info(
    { site: siteId, stream: outbox.stream, hub: config.hub.mqttUrl, intervalSeconds: config.sampling.intervalSeconds, previousShutdown },
    'agent ready',
  );

  return {
    siteId,
    outbox,
    link,
    modules,
    sampleNow,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(interval);
      await sampling; // let a sample in progress finish its commit
      sampleLog.close();
      for (const m of [...modules].reverse()) {
        await Promise.resolve(m.close()).catch((err: Error) => logger.error({ module: m.name, err: err.message }, `${m.name}: close failed: ${err.message}`));
      }
      await link.close();
      outbox.setMeta('running', '0');
      outbox.close();
      logger.info({ site: siteId }, 'agent stopped');
    },
  };
}
