/**
 * The status document: what GET /api/status answers and what `sentinela-agent status --json` prints.
 * One builder for both; they differ only in where the live part comes from (the running page
 * gathers it from the modules, the CLI reads the copy the page last saved in <dataDir>/page-live.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, type AgentConfig } from '@sentinela/shared';
import { collectStatus, type StatusReport } from '../status/collect.js';
import { glance, type Glance, type LiveStatus } from './rules.js';
import { readHistory, type History } from './history.js';
import { readLastDrill } from '../drills/record.js';

function drillGlance(config: AgentConfig): { at: string; failed: string[] } | null {
  const d = readLastDrill(config);
  return d && { at: d.finishedAt, failed: d.results.filter((r) => !r.ok).map((r) => `${r.source} (${r.location})`) };
}

export interface StatusDocument extends StatusReport, History {
  /** What the running agent saw last (null: no agent page has saved a sample yet). */
  live: LiveStatus | null;
  /** Green/amber/red per area with its sentence in both languages (null without live data). */
  glance: Glance | null;
}

export const liveFilePath = (config: AgentConfig): string => join(config.dataDir, 'page-live.json');

export function saveLive(config: AgentConfig, live: LiveStatus): void {
  writeFileAtomic(liveFilePath(config), JSON.stringify(live), 0o600);
}

export function loadLive(config: AgentConfig): LiveStatus | null {
  try {
    return JSON.parse(readFileSync(liveFilePath(config), 'utf8')) as LiveStatus;
  } catch {
    return null;
  }
}

/** The glance is judged at the live sample's time, so the same sample reads the same wherever it is shown. */
export function statusDocument(config: AgentConfig, live: LiveStatus | null): StatusDocument {
  const report = collectStatus(config);
  const history = readHistory(config);
  const g = live
    ? glance({
        now: Date.parse(live.sampledAt),
        live,
        usbRotationDays: config.backup?.usb ? config.backup.usb.rotationDays : null,
        backupConfigured: !!config.backup,
        offsiteConfigured: !!(config.backup && config.offsite),
        dataDir: config.dataDir,
        outboxPending: report.outbox.pending,
        lastDrill: drillGlance(config),
      })
    : null;
  return { ...report, ...history, live, glance: g };
}
