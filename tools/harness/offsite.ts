/** Off-site backup tests: a hub (behind the throttling proxy) in a temp folder, the agent's own transfer record, a backup run now. */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubHandle, type AgentHandle } from './fleet.js';
import type { LogLine } from './process.js';
import { ThrottledProxy } from './proxy.js';
import { tempDir } from './tmp.js';

/** The agent's record of the transfer (`<dataDir>/offsite.json`, agent offsite/progress.ts). */
export const ZERO_COUNTERS = { piecesSent: 0, bytesSent: 0, acked: 0, resentAcked: 0, refused: 0, timedOut: 0 };
export type OffsiteCounters = typeof ZERO_COUNTERS;

function offsiteFile(agent: AgentHandle): { counters?: Partial<OffsiteCounters>; acked?: Record<string, number> } {
  const file = join(agent.opts.dir, 'data', 'offsite.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { counters: OffsiteCounters; acked: Record<string, number> }) : {};
}

export function offsiteCounters(agent: AgentHandle): OffsiteCounters {
  return { ...ZERO_COUNTERS, ...offsiteFile(agent).counters };
}

/** Bytes the hub has acknowledged (per object, durably) of the snapshots still in transfer. */
export function offsiteAckedBytes(agent: AgentHandle): number {
  return Object.values(offsiteFile(agent).acked ?? {}).reduce((a, b) => a + b, 0);
}

export const diffCounters = (a: OffsiteCounters, b: OffsiteCounters): OffsiteCounters =>
  Object.fromEntries(Object.keys(ZERO_COUNTERS).map((k) => [k, a[k as keyof OffsiteCounters] - b[k as keyof OffsiteCounters]])) as unknown as OffsiteCounters;

/** The agent's log line that says the hub verified and stored `snapshot`. */
export const offsiteLog = (snapshot: string) => (l: LogLine) => l.snapshot === snapshot && /is off-site/.test(l.msg ?? '');

export interface BackupRun {
  id: string;
  storedBytes: number;
  base: string | null;
}

/** `sentinela-agent backup --json`: the first source's snapshot. */
export async function backupNow(agent: AgentHandle): Promise<BackupRun> {
  const r = await agent.cli(['backup', '--json']);
  if (r.code !== 0) throw new Error(`sentinela-agent backup failed (exit ${r.code}):\n${r.stderr}`);
  return (JSON.parse(r.stdout) as BackupRun[])[0]!;
}

export async function adminToken(hub: HubHandle): Promise<string> {
  const r = await hub.cli(['tokens', 'add', '--name', `admin-${Date.now()}`, '--role', 'admin', '--json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as { token: string }).token;
}

export interface OffsiteRig {
  /** The test's temp folder; `files` in it is an empty folder for a files source. */
  dir: string;
  files: string;
  hub: HubHandle;
  /** An admin API token. */
  token: string;
  proxy: ThrottledProxy | null;
  close(): Promise<void>;
}

/** A hub in a fresh temp folder, with the throttling proxy in front of its MQTT port unless `proxy: false`. */
export async function startOffsiteRig(prefix: string, opts: { hub?: Record<string, unknown>; proxy?: boolean; echo?: (line: string) => void } = {}): Promise<OffsiteRig> {
  const dir = tempDir(prefix);
  const hub = await new HubHandle({ dir: join(dir.path, 'hub'), echo: opts.echo, overrides: opts.hub }).start();
  const proxy = opts.proxy === false ? null : await new ThrottledProxy({ targetPort: hub.mqttPort }).start();
  const files = join(dir.path, 'files');
  mkdirSync(files);
  return {
    dir: dir.path,
    files,
    hub,
    token: await adminToken(hub),
    proxy,
    close: async () => {
      await proxy?.close();
      await hub.proc.stop();
      dir.remove();
    },
  };
}
