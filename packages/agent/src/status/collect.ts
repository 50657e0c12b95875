/** The local view of enrolment, the outbox and the power watch, from files only: what `status` and the local page show. */
import { existsSync } from 'node:fs';
import type { AgentConfig, StatusPower } from '@sentinela/shared';
import { CredentialsError, readCredentials } from '../enroll/credentials.js';
import { Outbox } from '../outbox/outbox.js';
import { credentialsPath, outboxPath } from '../paths.js';
import { loadPowerSnapshot, type PowerSnapshot } from '../power/snapshot.js';

export interface StatusReport {
  site: string | null;
  enrolled: boolean;
  credentialsFile: string;
  credentialsProblem: string | null;
  enrolledAt: string | null;
  hubHttpUrl: string | null;
  hubMqttUrl: string;
  outbox: {
    path: string;
    exists: boolean;
    stream: string | null;
    pending: number;
    pendingBytes: number;
    maxBytes: number;
    oldestTs: string | null;
    thinned: number;
  };
  lastStatusTs: string | null;
  lastConnectedAt: string | null;
  lastAckAt: string | null;
  /** The power watch as the agent last saved it (savedAt); off without a power section; null before the agent saved any. */
  power: PowerSnapshot | StatusPower | null;
}

export function collectStatus(config: AgentConfig): StatusReport {
  const credFile = credentialsPath(config);
  let creds = null;
  let credentialsProblem: string | null = null;
  try {
    creds = readCredentials(credFile);
  } catch (err) {
    if (!(err instanceof CredentialsError)) throw err;
    credentialsProblem = err.message;
  }
  const path = outboxPath(config);
  const report: StatusReport = {
    site: creds?.siteId ?? config.site.id ?? null,
    enrolled: creds !== null,
    credentialsFile: credFile,
    credentialsProblem,
    enrolledAt: creds?.enrolledAt ?? null,
    hubHttpUrl: creds?.hubHttpUrl ?? null,
    hubMqttUrl: config.hub.mqttUrl,
    outbox: { path, exists: false, stream: null, pending: 0, pendingBytes: 0, maxBytes: config.outbox.maxBytes, oldestTs: null, thinned: 0 },
    lastStatusTs: null,
    lastConnectedAt: null,
    lastAckAt: null,
    power: loadPowerSnapshot(config),
  };
  if (existsSync(path)) {
    const outbox = Outbox.open({ path, fileMustExist: true });
    try {
      const s = outbox.stats();
      Object.assign(report.outbox, { exists: true, stream: outbox.stream, ...s });
      report.lastStatusTs = outbox.getMeta('lastStatusTs');
      report.lastConnectedAt = outbox.getMeta('lastConnectedAt');
      report.lastAckAt = outbox.getMeta('lastAckAt');
    } finally {
      outbox.close();
    }
  }
  return report;
}
