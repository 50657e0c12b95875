/**
 * The fault campaign (issue 18): real agent and hub processes under random faults of every kind,
 * then a ledger of what each agent created against what the hub stored, and every snapshot listed
 * on each spool and USB disk restored. Quick size (CI): 2 agents, every kind at least once; full:
 * 6 agents, at least 1,000 faults (up to 10 at once, each on its own resource), the ledger also
 * taken every 30 s while the faults go on, and the power cuts in QEMU (powercut.ts) running beside
 * them. The seed is printed; FAULTS_SEED=N repeats a run. FAULTS_AGENTS=N and FAULTS_COUNT=N change
 * the size's number of agents and of faults (more agents than faults at once leaves sites unfaulted
 * for the ack latency of the others).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { canMount, mountImage, unmountAll, waitReleased } from '@sentinela/tools/harness/mounts.js';
import { hasFaketime } from '@sentinela/tools/harness/faketime.js';
import { agentOutbox } from '@sentinela/tools/harness/stores.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { sleep, waitFor } from '@sentinela/tools/harness/wait.js';
import type { BenchResult } from '../lib/report.js';
import { prng } from '../lib/prng.js';
import { runCampaign, type Injected } from './campaign.js';
import { FAULT_KINDS } from './injectors.js';
import { StreamWatch, type RunningChecks } from './ledger.js';
import { Rig } from './rig.js';
import { checkSnapshots } from './snapshots.js';
import { checkPowerCutPrerequisites, runPowerCuts, type PowerCuts } from './powercut.js';
import { AckLatency } from './ack-latency.js';

const SIZES = {
  quick: { agents: 2, faults: 30, meanGapMs: 1200, concurrent: 3, backupEverySeconds: 10 },
  full: { agents: 6, faults: 1000, meanGapMs: 350, concurrent: 10, backupEverySeconds: 20 },
};
/** The quiet spell after the faults, before the final drain (the ack latency's baseline). */
const QUIET_MS = 15_000;
/** Seconds between two ledgers taken while the faults go on. */
const LEDGER_EVERY_S = 30;
/** Power cuts in QEMU at the full size: each one a boot, minutes under software emulation. */
const VM_PLAN = { full: ['flush', 'backup', 'flush'], quick: ['flush'] };

export async function run(opts: { full: boolean; log: (line: string) => void }): Promise<BenchResult> {
  const { log } = opts;
  if (!canMount()) throw new Error('the fault campaign needs root with mount, losetup and mkfs.ext4 (real small filesystems for disk-full and USB faults)');
  if (!hasFaketime()) throw new Error('the fault campaign needs libfaketime for clock jumps: apt-get install faketime');
  // The power cuts take minutes per boot under software emulation: the full size, or FAULTS_VM=1.
  const withVm = opts.full || process.env.FAULTS_VM === '1';
  if (withVm) checkPowerCutPrerequisites();
  const base = opts.full ? SIZES.full : SIZES.quick;
  const size = { ...base, agents: Number(process.env.FAULTS_AGENTS ?? base.agents), faults: Number(process.env.FAULTS_COUNT ?? base.faults) };
  const seed = process.env.FAULTS_SEED ? Number(process.env.FAULTS_SEED) : Math.floor(Math.random() * 2 ** 31);
  log(`faults: seed ${seed} (FAULTS_SEED=${seed} repeats this run), ${size.agents} agents, ${size.faults} faults`);
  const r = prng(seed);
  const dir = tempDir('faults');
  const rig = new Rig({ dir: dir.path, agents: size.agents, seed, backupEverySeconds: size.backupEverySeconds, log });
  const t0 = Date.now();
  let vmRun: Promise<PowerCuts> | null = null;
  try {
    vmRun = withVm ? runPowerCuts(opts.full ? VM_PLAN.full : VM_PLAN.quick, seed, log) : null;
    await rig.start();
    // The acks of the connections opened from here on (every agent reconnects after its first fault, the hub's or its own).
    const acks = new AckLatency();
    for (const a of rig.agents) acks.attach(a.proxy, a.index);
    // The first connections were opened before: cut once, they come back read from their start.
    for (const a of rig.agents) a.proxy.cutAll();
    const watch = new StreamWatch();
    const hubData = join(rig.hub.handle.opts.dir, 'data');
    let lastCheck = Date.now();
    const tick = () => {
      rig.agents.forEach((a) => watch.sample(a));
      watch.relook(rig.agents, hubData, log);
      if (Date.now() - lastCheck < LEDGER_EVERY_S * 1000) return;
      lastCheck = Date.now();
      const l = watch.check(rig.agents, hubData);
      if (l) log(`faults: ledger during the faults: ${l.created} created, ${l.stored} stored, ${l.queued} queued, ${l.lost} lost, ${l.duplicated} duplicated`);
    };
    const injected = await runCampaign(rig, r, { ...size, log, tick });
    const campaignSec = Math.round((Date.now() - t0) / 1000);

    // Everything mended: the disks back, every process up; then the backlog drains.
    await settle(rig);
    // A quiet spell with every fault mended: the acks in it are the no-fault baseline of the ack latency.
    await sleep(QUIET_MS);
    await waitFor('every outbox drained', () => rig.agents.every((a) => agentOutbox(a.dataDir).pending.length <= 2), 180_000, 500).catch(() => log('faults: the outboxes did not drain within 3 min; the ledger counts what is left as queued'));
    tick();
    for (const a of rig.agents) await a.agent.stop();
    const ledger = watch.ledger(rig.agents, hubData);
    const scratch = join(dir.path, 'restores');
    mkdirSync(scratch, { recursive: true });
    const snaps = await checkSnapshots(rig.agents, scratch, log);
    const shutdowns = rig.agents.filter((a) => existsSync(a.shutdownMarker)).length;
    await rig.stop();
    if (vmRun) log('faults: waiting for the power cuts in QEMU to end');
    const vm = vmRun ? await vmRun : null;
    vmRun = null;
    return report({ seed, size, full: opts.full, injected, ledger, running: watch.running, acks: acks.figures(injected, rig.agents.length), snaps, shutdowns, rig, vm, campaignSec, totalSec: Math.round((Date.now() - t0) / 1000) });
  } finally {
    // A campaign that failed still lets the VM's script clean its own folder up.
    await vmRun?.catch(() => undefined);
    await rig.stop().catch(() => undefined);
    unmountAll();
    dir.remove();
  }
}

async function settle(rig: Rig): Promise<void> {
  for (const a of rig.agents) {
    a.clock.reset();
    a.proxy.stall('up', false);
    a.proxy.stall('down', false);
    if (!a.usbMounted) {
      await waitReleased(a.usbImage);
      mountImage(a.usbImage, a.usbDir);
      a.usbMounted = true;
    }
  }
  if (rig.hub.down) await rig.hub.start();
  for (const a of rig.agents) if (a.agent.down) await a.agent.start();
}

interface ReportInput {
  seed: number;
  size: (typeof SIZES)['quick'];
  full: boolean;
  injected: Injected[];
  ledger: ReturnType<StreamWatch['ledger']>;
  running: RunningChecks;
  /** AckLatency.figures: the hub's ack latency per site while another site was faulted. */
  acks: Record<string, number>;
  snaps: Awaited<ReturnType<typeof checkSnapshots>>;
  shutdowns: number;
  rig: Rig;
  vm: PowerCuts | null;
  campaignSec: number;
  totalSec: number;
}

function report(i: ReportInput): BenchResult {
  const byKind: Record<string, number> = {};
  for (const k of FAULT_KINDS) byKind[`faults ${k}`] = i.injected.filter((f) => f.kind === k && !f.error).length;
  const errors = i.injected.filter((f) => f.error);
  const midCopy = i.injected.filter((f) => f.kind === 'usb.pulled-mid-copy' && f.detail.startsWith('pulled while')).length;
  const notes = [
    `seed ${i.seed}: FAULTS_SEED=${i.seed} npm run bench -- faults${i.full ? ' --full' : ''} repeats the schedule (timing still varies)`,
    `lost: a seq an agent created that is neither stored at the hub nor still in its outbox; duplicated: a (site, stream, seq) stored or counted twice`,
    i.vm
      ? `power cuts in QEMU (${i.vm.seconds} s, beside the campaign): ${i.vm.passedChecks} checks passed after the boots; ${i.vm.created} messages created there, ${i.vm.stored} stored; ${i.vm.snapshotsListed} snapshots listed after the cuts (summed over the boots), ${i.vm.snapshotsRestored} restored; ${i.vm.flushCutsWithBacklog} of ${i.vm.cuts.flush ?? 0} flush cuts landed with rows still queued`
      : 'power cuts that lose the page cache (QEMU, minutes per boot) run with --full or FAULTS_VM=1',
    ...(i.vm?.failedChecks ?? []).map((c) => `power cut check failed: ${c}`),
    `ledger taken ${i.running.checks} times while the faults went on (every ${LEDGER_EVERY_S} s; ${i.running.unreadable} times a database could not be read at that moment), then once after the final drain`,
    ...i.ledger.lostExamples.map((e) => `lost: ${e}`),
    ...i.running.lostExamples.map((e) => `lost at a ledger during the faults: ${e}`),
    ...i.running.relookLines.map((e) => `re-look: ${e}`),
    `ack latency: from a QoS 1 PUBLISH delivered to the hub to its PUBACK, read on each agent's link; "another faulted": another site had a fault under way (or mended less than 3 s before) and this one none (upsd restarts not counted: not on the way to the hub); acks during a fault of the site's own or of the hub are left out`,
    ...i.ledger.damagedDatabases.map((d) => `damaged database: ${d}`),
    ...i.snaps.failures.map((f) => `snapshot check: ${f}`),
    ...i.rig.crashes.map((c) => `crash: ${c.who} exited (code ${c.code}, signal ${c.signal}) without being killed; last lines:\n${c.lastLines.join('\n')}`),
    ...i.rig.startFailures.map((c) => `start failed (tried again): ${c.who}: ${c.lastLines.join(' ').slice(0, 500)}`),
    ...errors.map((f) => `injector error: ${f.kind} on ${f.target}: ${f.error}`),
  ];
  return {
    name: 'faults',
    setup: { seed: i.seed, agents: i.size.agents, 'faults planned': i.size.faults, 'campaign s': i.campaignSec, 'total s': i.totalSec },
    figures: {
      'faults injected': i.injected.length - errors.length + (i.vm ? Object.values(i.vm.cuts).reduce((a, b) => a + b, 0) : 0),
      ...byKind,
      'usb pulls that hit a copy': midCopy,
      'link cuts that hit a connection': i.injected.filter((f) => f.kind === 'link.cut' && f.detail === 'connection cut').length,
      'injector errors': errors.length,
      'messages created': i.ledger.created,
      'messages stored': i.ledger.stored,
      'messages lost': i.ledger.lost,
      'messages duplicated': i.ledger.duplicated,
      'ledgers during the faults': i.running.checks,
      'lost at a ledger during the faults': i.running.lost,
      'duplicated at a ledger during the faults': i.running.duplicated,
      'lost at a ledger, 5 s later in the outbox': i.running.relooks.outbox,
      'lost at a ledger, 5 s later at the hub': i.running.relooks.hub,
      'lost at a ledger, 5 s later nowhere': i.running.relooks.nowhere,
      'messages still queued': i.ledger.queued,
      'messages on unknown streams': i.ledger.unknown,
      'outbox streams': i.ledger.streams,
      'damaged databases': i.ledger.damagedDatabases.length,
      'snapshots listed': i.snaps.listed,
      'snapshots restored': i.snaps.restored,
      'snapshots that do not restore': i.snaps.failed,
      'repositories failing verify --read-data': i.snaps.verifyProblems,
      'process crashes': i.rig.crashes.length,
      'failed starts': i.rig.startFailures.length,
      'spurious shutdowns': i.shutdowns,
      ...i.acks,
      ...(i.vm
        ? {
            'faults power.cut-mid-backup': i.vm.cuts.backup ?? 0,
            'faults power.cut-mid-flush': i.vm.cuts.flush ?? 0,
            'power cut: flush cuts with rows queued': i.vm.flushCutsWithBacklog,
            'power cut: checks passed': i.vm.passedChecks,
            'power cut: snapshots listed': i.vm.snapshotsListed,
            'power cut: snapshots restored': i.vm.snapshotsRestored,
            'power cut: messages lost': i.vm.lost,
            'power cut: messages duplicated': i.vm.duplicated,
            'power cut: snapshots that do not restore': i.vm.snapshotsFailed,
            'power cut: failed checks': i.vm.failedChecks.length,
          }
        : {}),
    },
    peer: {
      name: 'target',
      figures: {
        ...(i.full ? { 'faults injected': SIZES.full.faults } : {}),
        'messages lost': 0,
        'messages duplicated': 0,
        'lost at a ledger during the faults': 0,
        'snapshots that do not restore': 0,
        'process crashes': 0,
        'spurious shutdowns': 0,
        ...(i.vm ? { 'power cut: messages lost': 0, 'power cut: messages duplicated': 0, 'power cut: snapshots that do not restore': 0, 'power cut: failed checks': 0 } : {}),
      },
    },
    ratios: {},
    notes,
  };
}
