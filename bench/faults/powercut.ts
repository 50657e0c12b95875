/**
 * The power cuts of the campaign: bench/faults/powercut-vm.sh (a booted Debian 12 server, QEMU
 * killed hard mid-backup and mid-outbox-flush, booted again, checked), read back from its lines.
 */
import { join } from 'node:path';
import { REPO_ROOT } from '@sentinela/tools/harness/paths.js';
import { runAsRootShell } from '@sentinela/tools/harness/root-script.js';

export interface PowerCuts {
  cuts: Record<string, number>;
  failedChecks: string[];
  created: number;
  stored: number;
  lost: number;
  duplicated: number;
  snapshotsListed: number;
  snapshotsRestored: number;
  snapshotsFailed: number;
  seconds: number;
}

export function runPowerCuts(plan: string[], seed: number, log: (line: string) => void): PowerCuts {
  const t0 = Date.now();
  log(`faults: power cuts in QEMU, plan "${plan.join(' ')}" (several minutes per boot under software emulation)`);
  const r = runAsRootShell('bash', [join(REPO_ROOT, 'bench/faults/powercut-vm.sh'), '--plan', plan.join(' '), '--seed', String(seed)], 3_600_000);
  const lines = r.stdout.split('\n');
  const out: PowerCuts = { cuts: {}, failedChecks: [], created: 0, stored: 0, lost: 0, duplicated: 0, snapshotsListed: 0, snapshotsRestored: 0, snapshotsFailed: 0, seconds: 0 };
  const num = (line: string, key: string) => Number(new RegExp(`\\b${key}=(\\d+)`).exec(line)?.[1] ?? 0);
  let lastLedger = '';
  for (const line of lines) {
    const cut = /^CUT (\S+)$/.exec(line);
    if (cut) out.cuts[cut[1]!] = (out.cuts[cut[1]!] ?? 0) + 1;
    if (line.startsWith('FAIL  ')) out.failedChecks.push(line.slice(6));
    if (line.startsWith('LEDGER ')) {
      lastLedger = line;
      out.lost += num(line, 'lost');
      out.duplicated += num(line, 'duplicated');
    }
    if (line.startsWith('SNAPSHOTS ')) {
      out.snapshotsListed += num(line, 'listed');
      out.snapshotsRestored += num(line, 'restored');
      out.snapshotsFailed += num(line, 'failed');
    }
  }
  out.created = num(lastLedger, 'created');
  out.stored = num(lastLedger, 'stored');
  if (r.status !== 0 && out.failedChecks.length === 0) out.failedChecks.push(`powercut-vm.sh exit ${r.status}: ${(r.stderr + r.stdout).slice(-1500)}`);
  out.seconds = Math.round((Date.now() - t0) / 1000);
  log(`faults: power cuts done in ${out.seconds} s: ${JSON.stringify(out.cuts)}, ${out.failedChecks.length} checks failed`);
  return out;
}
