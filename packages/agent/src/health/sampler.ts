/** Host health for the `host` part of a StatusMessage: CPU, memory, every mounted filesystem. */
import os from 'node:os';
import * as si from './system-info.js';
import type { StatusMessage } from '@sentinela/shared';

export type HostHealth = StatusMessage['host'];

const MAX_FILESYSTEMS = 256; // the schema's limit

function pct(n: unknown): number {
  const v = typeof n === 'number' && Number.isFinite(n) ? n : 0;
  return Math.min(100, Math.max(0, Math.round(v * 100) / 100));
}

function bytes(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
}

export async function sampleHost(): Promise<HostHealth> {
  // Each source may fail on an odd platform; a partial sample is better than none.
  const [load, mem, fss] = await Promise.all([
    si.currentLoad().catch(() => null),
    si.mem().catch(() => null),
    si.fsSize().catch(() => []),
  ]);
  const [load1, load5, load15] = os.loadavg();
  const totalMem = mem?.total ?? os.totalmem();
  const availableMem = mem?.available ?? os.freemem();
  return {
    hostname: os.hostname(),
    uptimeSec: Math.round(os.uptime()),
    cpu: {
      cores: Math.max(1, os.availableParallelism?.() ?? os.cpus().length),
      load1: Math.max(0, load1 ?? 0),
      load5: Math.max(0, load5 ?? 0),
      load15: Math.max(0, load15 ?? 0),
      usagePct: pct(load?.currentLoad),
    },
    memory: {
      totalBytes: bytes(totalMem),
      // "used" as people mean it: what is not available (page cache does not count).
      usedBytes: bytes(totalMem - availableMem),
      availableBytes: bytes(availableMem),
    },
    filesystems: fss.slice(0, MAX_FILESYSTEMS).map((f) => ({
      mount: String(f.mount),
      fs: String(f.fs),
      type: String(f.type),
      sizeBytes: bytes(f.size),
      usedBytes: bytes(f.used),
      usePct: pct(f.use),
    })),
  };
}
