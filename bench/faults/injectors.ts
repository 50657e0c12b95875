/**
 * One injector per fault kind: what it breaks, for how long, and how it is put right again (as a
 * technician, the mains or NTP would). Each names the resources it holds, so that two faults never
 * fight over the same thing (two remounts of one disk) while different ones overlap freely.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fillUp, mountImage, pullOut, waitReleased } from '@sentinela/tools/harness/mounts.js';
import { sleep, waitFor } from '@sentinela/tools/harness/wait.js';
import type { AgentRig, Rig } from './rig.js';

export const FAULT_KINDS = [
  'agent.sigkill',
  'hub.sigkill',
  'link.cut',
  'link.up-lost',
  'link.down-lost',
  'link.mid-packet',
  'disk.outbox-full',
  'disk.spool-full',
  'disk.usb-full',
  'usb.pulled-mid-copy',
  'ups.upsd-restart',
  'clock.jump',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type Random = () => number;
/** Milliseconds between `lo` and `hi` seconds. */
const between = (r: Random, lo: number, hi: number): number => Math.round((lo + r() * (hi - lo)) * 1000);

export interface Injector {
  resources(a: AgentRig): string[];
  /** Breaks, waits, mends; returns what it did, for the log. */
  run(rig: Rig, a: AgentRig, r: Random): Promise<string>;
}

/** The USB disk pulled and plugged in again (after every open file let go of it). */
async function replug(a: AgentRig, awayMs: number): Promise<void> {
  pullOut(a.usbDir);
  a.usbMounted = false;
  await sleep(awayMs);
  await waitReleased(a.usbImage);
  mountImage(a.usbImage, a.usbDir);
  a.usbMounted = true;
}

function objectCount(dir: string): number {
  try {
    const root = join(dir, 'objects');
    return readdirSync(root).reduce((n, d) => n + readdirSync(join(root, d)).length, 0);
  } catch {
    return -1;
  }
}

/** One direction of the link loses everything for a while; then it comes back, or the connection dies. */
function oneWayLoss(side: 'up' | 'down'): Injector {
  return {
    resources: (a) => [`link:${a.index}`],
    async run(_rig, a, r) {
      // Past 7.5 s (1.5 keepalives) the silent side gives the connection up: both cases happen.
      const ms = between(r, 1, 9);
      const thenCut = r() < 0.5;
      a.proxy.stall(side, true);
      await sleep(ms);
      if (thenCut) a.proxy.cutAll();
      a.proxy.stall(side, false);
      return `${side === 'up' ? 'agent → hub' : 'hub → agent'} lost for ${ms} ms${thenCut ? ', then the connection cut' : ''}`;
    },
  };
}

function diskFull(dirOf: (a: AgentRig) => string, resource: string, lo: number, hi: number): Injector {
  return {
    resources: (a) => [`${resource}:${a.index}`],
    async run(_rig, a, r) {
      const free = fillUp(dirOf(a));
      const ms = between(r, lo, hi);
      await sleep(ms);
      free();
      return `full for ${ms} ms`;
    },
  };
}

export const INJECTORS: Record<FaultKind, Injector> = {
  'agent.sigkill': {
    resources: (a) => [`agent:${a.index}`],
    async run(_rig, a, r) {
      await a.agent.kill();
      const ms = between(r, 0.1, 3);
      await sleep(ms);
      await a.agent.start();
      return `down ${ms} ms`;
    },
  },
  'hub.sigkill': {
    resources: () => ['hub'],
    async run(rig, _a, r) {
      await rig.hub.kill();
      const ms = between(r, 0.1, 4);
      await sleep(ms);
      await rig.hub.start();
      return `down ${ms} ms`;
    },
  },
  'link.cut': {
    resources: (a) => [`link:${a.index}`],
    async run(_rig, a) {
      const before = a.proxy.cuts;
      a.proxy.cutAll();
      return a.proxy.cuts > before ? 'connection cut' : 'nothing connected at that moment';
    },
  },
  'link.up-lost': oneWayLoss('up'),
  'link.down-lost': oneWayLoss('down'),
  'link.mid-packet': {
    resources: (a) => [`link:${a.index}`],
    async run(_rig, a, r) {
      const side = r() < 0.5 ? 'up' : 'down';
      const before = a.proxy.midPacketCuts;
      a.proxy.cutMidPacket(side);
      // While the hub or the agent restarts (minutes on a loaded machine) no packet passes.
      await waitFor('a packet to cut in half', () => a.proxy.midPacketCuts > before, 120_000, 50);
      return `cut inside a packet ${side === 'up' ? 'agent → hub' : 'hub → agent'}`;
    },
  },
  'disk.outbox-full': diskFull((a) => a.dataDir, 'data', 1, 6),
  'disk.spool-full': diskFull((a) => a.spoolDir, 'spool', 2, 10),
  'disk.usb-full': {
    resources: (a) => [`usb:${a.index}`],
    async run(_rig, a, r) {
      const free = fillUp(a.usbDir);
      const ms = between(r, 2, 10);
      await sleep(ms);
      free();
      // What a technician does with a disk the agent called full: unplug it and plug it in again.
      await replug(a, between(r, 0.5, 2));
      return `full for ${ms} ms, then replugged`;
    },
  },
  'usb.pulled-mid-copy': {
    resources: (a) => [`usb:${a.index}`],
    async run(_rig, a, r) {
      // A copy follows every backup: wait for the next one to finish, then for objects to land on the disk.
      const proc = a.agent.handle.proc;
      const from = proc.lines.length;
      const done = () => proc.lines.slice(from).some((l) => l.includes('"usb.copy_completed"'));
      await waitFor('the next backup', () => !a.agent.down && proc.lines.slice(from).some((l) => l.includes('"backup.completed"')), 60_000, 20).catch(() => undefined);
      const start = objectCount(a.usbDir);
      await waitFor('objects to land on the disk', () => objectCount(a.usbDir) !== start || done(), 5000, 10).catch(() => undefined);
      const mid = objectCount(a.usbDir) !== start && !done();
      await replug(a, between(r, 0.5, 4));
      return mid ? 'pulled while objects were being written' : 'pulled (no copy under way at that moment)';
    },
  },
  'ups.upsd-restart': {
    resources: () => ['ups'],
    async run(rig, _a, r) {
      await rig.nut.stopUpsd();
      // Sometimes longer than the agent's deadtime (15 s): on mains that must stay a warning.
      const ms = between(r, 0.5, 20);
      await sleep(ms);
      await rig.nut.startUpsd();
      return `upsd down ${ms} ms`;
    },
  },
  'clock.jump': {
    resources: (a) => [`clock:${a.index}`],
    async run(_rig, a, r) {
      const jumps = [3600, 86_400, 7 * 86_400, -3600, -86_400, -30 * 86_400];
      const s = jumps[Math.floor(r() * jumps.length)]!;
      a.clock.jump(s);
      const ms = between(r, 1, 8);
      await sleep(ms);
      a.clock.reset(); // NTP puts it right
      return `${s > 0 ? '+' : ''}${s} s for ${ms} ms, then back`;
    },
  },
};
