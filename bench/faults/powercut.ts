/**
 * The power cuts of the campaign: bench/faults/powercut-vm.sh (a booted Debian 12 server, QEMU
 * killed hard mid-backup and mid-outbox-flush, booted again, checked), read back from its lines.
 * It runs beside the rest of the campaign (its boots take minutes under software emulation). The
 * bootable root it needs is built once and cached in /var/tmp/sentinela-chroot-cache.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@sentinela/tools/harness/paths.js';

/** Where installers/lib/test-root.sh caches the bootable root (debootstrap is needed only without it). */
export const VM_ROOT_CACHE = '/var/tmp/sentinela-chroot-cache/bookworm-vm';

export interface PowerCuts {
  cuts: Record<string, number>;
  /** Cuts mid-flush that landed while the outbox still had rows for the hub. */
  flushCutsWithBacklog: number;
  failedChecks: string[];
  passedChecks: number;
  created: number;
  stored: number;
  lost: number;
  duplicated: number;
  snapshotsListed: number;
  snapshotsRestored: number;
  snapshotsFailed: number;
  seconds: number;
}

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** The power cuts cannot run without these: the campaign stops at once rather than skip them. */
export function checkPowerCutPrerequisites(): void {
  if (process.getuid?.() !== 0) throw new Error('the power cuts (--full or FAULTS_VM=1) run QEMU on a root image: run as root');
  if (!has('qemu-system-x86_64')) throw new Error('the power cuts (--full or FAULTS_VM=1) need QEMU: apt-get install qemu-system-x86');
  if (!existsSync(VM_ROOT_CACHE) && !has('debootstrap')) {
    throw new Error(`the power cuts (--full or FAULTS_VM=1) need debootstrap to build the bootable root once (cached in ${VM_ROOT_CACHE}): apt-get install debootstrap`);
  }
}

/** Starts the plan's cuts; the promise settles when the last boot's checks are done. */
export function runPowerCuts(plan: string[], seed: number, log: (line: string) => void): Promise<PowerCuts> {
  const t0 = Date.now();
  log(`faults: power cuts in QEMU, plan "${plan.join(' ')}", beside the campaign (minutes per boot under software emulation)`);
  const out: PowerCuts = {
    cuts: {},
    flushCutsWithBacklog: 0,
    failedChecks: [],
    passedChecks: 0,
    created: 0,
    stored: 0,
    lost: 0,
    duplicated: 0,
    snapshotsListed: 0,
    snapshotsRestored: 0,
    snapshotsFailed: 0,
    seconds: 0,
  };
  const num = (line: string, key: string) => Number(new RegExp(`\\b${key}=(\\d+)`).exec(line)?.[1] ?? 0);
  const tail: string[] = [];
  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > 60) tail.shift();
    const cut = /^CUT (\S+)/.exec(line);
    if (cut) {
      out.cuts[cut[1]!] = (out.cuts[cut[1]!] ?? 0) + 1;
      if (cut[1] === 'flush' && num(line, 'queued') > 0) out.flushCutsWithBacklog++;
    }
    if (line.startsWith('PASS  ')) out.passedChecks++;
    if (line.startsWith('FAIL  ')) out.failedChecks.push(line.slice(6));
    if (line.startsWith('LEDGER ')) {
      out.lost += num(line, 'lost');
      out.duplicated += num(line, 'duplicated');
      out.created = num(line, 'created');
      out.stored = num(line, 'stored');
    }
    if (line.startsWith('SNAPSHOTS ')) {
      out.snapshotsListed += num(line, 'listed');
      out.snapshotsRestored += num(line, 'restored');
      out.snapshotsFailed += num(line, 'failed');
    }
    if (/^(== |CUT |CUT-NOW |PASS  |FAIL  |LEDGER |SNAPSHOTS |restore of |boot \d+ ran)/.test(line)) log(`faults: vm: ${line.replace(/^== /, '')}`);
  };
  const env = { PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' };
  // FAULTS_VM_BUNDLES=DIR: release bundles already built (installers/build.sh --out DIR), else the script builds them.
  const bundles = process.env.FAULTS_VM_BUNDLES ? ['--bundles', process.env.FAULTS_VM_BUNDLES] : [];
  const args = [join(REPO_ROOT, 'bench/faults/powercut-vm.sh'), '--plan', plan.join(' '), '--seed', String(seed), ...bundles];
  const child = spawn('bash', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      parts.forEach(onLine);
    });
  }
  // The script's own limit is 30 min a boot; past an hour and a half it is stuck.
  const limit = setTimeout(() => child.kill('SIGTERM'), 90 * 60_000);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(limit);
      if (code !== 0 && out.failedChecks.length === 0) out.failedChecks.push(`powercut-vm.sh exit ${code ?? signal}: ${tail.join('\n').slice(-1500)}`);
      for (const kind of plan) if (!out.cuts[kind]) out.failedChecks.push(`no cut mid-${kind} happened`);
      out.seconds = Math.round((Date.now() - t0) / 1000);
      log(`faults: power cuts done in ${out.seconds} s: ${JSON.stringify(out.cuts)}, ${out.passedChecks} checks passed, ${out.failedChecks.length} failed`);
      resolve(out);
    });
  });
}
