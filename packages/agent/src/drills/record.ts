/**
 * Where a drill's report goes: <dataDir>/drills/last.json (the local page, `status`) and the
 * outbox as a `drill` message, so it reaches the hub store-and-forward like an event. The CLI
 * verb writes to the same outbox database as a running agent (SQLite, WAL): the agent sends it
 * with its next batch; an agent that is not running sends it when it starts.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DrillReport, PROTOCOL_VERSION, writeFileAtomic, type AgentConfig, type DrillMessage } from '@sentinela/shared';
import { readCredentials } from '../enroll/credentials.js';
import { Outbox } from '../outbox/outbox.js';
import { credentialsPath, outboxPath } from '../paths.js';

export function lastDrillPath(config: AgentConfig): string {
  return join(config.dataDir, 'drills', 'last.json');
}

/** The last drill's report, or null when there is none (or it cannot be read). */
export function readLastDrill(config: AgentConfig): DrillReport | null {
  try {
    const r = DrillReport.safeParse(JSON.parse(readFileSync(lastDrillPath(config), 'utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/** Queues the report in `outbox` as a drill message. */
export function queueDrill(outbox: Outbox, siteId: string, drill: DrillReport): number {
  return outbox.append('drill', (seq, stream, ts): DrillMessage => ({ v: PROTOCOL_VERSION, site: siteId, stream, seq, ts, type: 'drill', drill })).seq;
}

/**
 * Keeps the report as the last drill and queues it for the hub, through `outbox` when the caller
 * has one open (the running agent), else through the outbox file. Returns false when the agent is
 * not enrolled (nothing to send to).
 */
export function recordDrill(config: AgentConfig, drill: DrillReport, outbox?: { outbox: Outbox; siteId: string }): boolean {
  mkdirSync(join(config.dataDir, 'drills'), { recursive: true });
  writeFileAtomic(lastDrillPath(config), JSON.stringify(drill, null, 2));
  if (outbox) {
    queueDrill(outbox.outbox, outbox.siteId, drill);
    return true;
  }
  const creds = readCredentials(credentialsPath(config));
  if (!creds) return false;
  const box = Outbox.open({ path: outboxPath(config), siteId: creds.siteId });
  try {
    queueDrill(box, creds.siteId, drill);
  } finally {
    box.close();
  }
  return true;
}
