/**
 * The power section as the running agent last saw it, in <dataDir>/power-status.json, for
 * `sentinela-agent status` (a separate process, with or without the local page). Written when
 * something a person would read changes, and at least once a minute while the agent runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, type AgentConfig, type StatusPower } from '@sentinela/shared';

export const POWER_OFF: StatusPower = { watch: 'off', reason: 'no power section in agent.yaml (no UPS daemon on this host)', contact: 'unknown', state: 'unknown', flags: [], charge: null, runtimeSec: null, loadPct: null, inputVoltage: null, lastSeenAt: null, onBatterySince: null, shutdownDueAt: null, outage: null, lastOutage: null };

export type PowerSnapshot = StatusPower & { savedAt: string };

const REFRESH_MS = 60_000;
export const powerSnapshotPath = (dataDir: string): string => join(dataDir, 'power-status.json');

/** Saves when the view changed beyond the moving readings, or after REFRESH_MS; returns whether it wrote. */
export class PowerSnapshotWriter {
  private key = '';
  private at = 0;

  constructor(private readonly dataDir: string) {}

  save(p: StatusPower, now = Date.now()): boolean {
    const { lastSeenAt: _seen, charge: _c, runtimeSec: _r, loadPct: _l, inputVoltage: _v, ...rest } = p;
    const key = JSON.stringify(rest);
    if (key === this.key && now - this.at < REFRESH_MS) return false;
    writeFileAtomic(powerSnapshotPath(this.dataDir), JSON.stringify({ ...p, savedAt: new Date(now).toISOString() }), 0o600);
    this.key = key;
    this.at = now;
    return true;
  }
}

/** The power section for `status`: off without a power section, null when the agent has saved none yet. */
export function loadPowerSnapshot(config: AgentConfig): PowerSnapshot | StatusPower | null {
  if (!config.power) return POWER_OFF;
  try {
    return JSON.parse(readFileSync(powerSnapshotPath(config.dataDir), 'utf8')) as PowerSnapshot;
  } catch {
    return null;
  }
}
