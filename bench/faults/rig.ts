/**
 * The fleet the fault campaign runs against, all real processes: one hub, N agents each behind a
 * TCP proxy of its own (its GovNet link), one NUT upsd with dummy-ups that every agent watches,
 * and per agent small real filesystems for its data folder (the outbox), its spool and its USB
 * disk, so that "disk full" is a real ENOSPC and "USB pulled" a real unmount. Each agent's wall
 * clock is its own (libfaketime), so clock jumps never touch the machine's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentHandle, HubHandle } from '@sentinela/tools/harness/fleet.js';
import { FakeClock } from '@sentinela/tools/harness/faketime.js';
import { makeExt4Image, mountImage, mountTmpfs } from '@sentinela/tools/harness/mounts.js';
import { NutServer } from '@sentinela/tools/harness/nut.js';
import type { NodeProcess } from '@sentinela/tools/harness/process.js';
import { ThrottledProxy } from '@sentinela/tools/harness/proxy.js';
import { prng } from '../lib/prng.js';

const MiB = 1024 * 1024;
/**
 * A start under the campaign's own load (and a shared machine's) can take minutes; one that
 * timed out is killed and tried again, so the limit must be well past a slow start.
 */
const READY_TIMEOUT_MS = 180_000;

export interface RigOptions {
  dir: string;
  agents: number;
  seed: number;
  /** Seconds between two backups of each agent (a cron with seconds). */
  backupEverySeconds: number;
  log: (line: string) => void;
}

/** A process that exited without the campaign killing it: a finding, with its last words. */
export interface Crash {
  who: string;
  code: number | null;
  signal: string | null;
  lastLines: string[];
}

/** Watches one restartable process: an exit the campaign did not ask for is recorded as a crash. */
export class Supervised<H extends { proc: NodeProcess; start(): Promise<unknown> }> {
  /** True while the campaign has it down on purpose (killed, not yet restarted). */
  down = false;
  private starting: Promise<void> | null = null;

  constructor(
    readonly who: string,
    readonly handle: H,
    private readonly crashes: Crash[],
    private readonly startFailures: Crash[],
  ) {}

  async start(): Promise<void> {
    this.starting ??= (async () => {
      // A start can fail while a fault lasts (a full data disk, say): it is tried again, and the
      // failure is recorded as a crash only if the process exited on its own.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.handle.start();
          break;
        } catch (err) {
          // A start that timed out leaves its process running: killed, or two agents would share
          // one outbox and one repository (a second agent's prune removes what the check lists).
          await this.handle.proc?.kill();
          if (attempt >= 10) throw err;
          this.startFailures.push({ who: this.who, code: this.handle.proc.child.exitCode, signal: null, lastLines: [(err as Error).message.slice(0, 2000)] });
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
      this.down = false;
      const proc = this.handle.proc;
      void proc.exited.then(({ code, signal }) => {
        if (this.down || this.handle.proc !== proc) return;
        this.crashes.push({ who: this.who, code, signal, lastLines: proc.lines.slice(-15) });
        this.down = true;
        void this.start().catch(() => undefined);
      });
    })().finally(() => (this.starting = null));
    return this.starting;
  }

  async kill(): Promise<void> {
    this.down = true;
    await this.handle.proc.kill();
  }

  async stop(): Promise<void> {
    this.down = true;
    // A start still trying would spawn a process after this stop: it ends first.
    await this.starting?.catch(() => undefined);
    await this.handle.proc.stop();
  }
}

export interface AgentRig {
  index: number;
  siteId: string;
  agent: Supervised<AgentHandle>;
  proxy: ThrottledProxy;
  clock: FakeClock;
  dataDir: string;
  spoolDir: string;
  mediaDir: string;
  usbImage: string;
  usbDir: string;
  usbMounted: boolean;
  shutdownMarker: string;
}

export class Rig {
  hub!: Supervised<HubHandle>;
  nut!: NutServer;
  agents: AgentRig[] = [];
  readonly crashes: Crash[] = [];
  /** Starts that failed (and were tried again): while a data disk is full, say. */
  readonly startFailures: Crash[] = [];

  constructor(readonly opts: RigOptions) {}

  async start(): Promise<void> {
    const { dir, log } = this.opts;
    this.nut = await new NutServer().start();
    const hub = new HubHandle({ dir: join(dir, 'hub'), hubId: 'faults-hub', readyTimeoutMs: READY_TIMEOUT_MS });
    this.hub = new Supervised('hub', hub, this.crashes, this.startFailures);
    await this.hub.start();
    log(`faults: hub on ${hub.mqttUrl}, upsd on ${this.nut.port}`);
    // Enrolment, key and disk set-up are CLI processes: all agents at once, not one after another.
    this.agents = await Promise.all(Array.from({ length: this.opts.agents }, (_, i) => this.startAgent(i)));
  }

  private async startAgent(index: number): Promise<AgentRig> {
    const hub = this.hub.handle;
    const base = join(this.opts.dir, `agent-${index}`);
    const siteId = `hf-faults-${index}-${this.opts.seed.toString(36)}`;
    const dataDir = join(base, 'data');
    const spoolDir = join(base, 'spool');
    const mediaDir = join(base, 'media');
    const usbDir = join(mediaDir, 'disco');
    const usbImage = join(base, 'usb.img');
    mkdirSync(mediaDir, { recursive: true });
    mountTmpfs(dataDir, 64 * MiB);
    mountTmpfs(spoolDir, 96 * MiB);
    makeExt4Image(usbImage, 96);
    mountImage(usbImage, usbDir);

    // What the backups dump: a fixed record file and fresh bytes each time, so every copy to the
    // USB disk carries a few MB (long enough to be pulled out in the middle).
    const records = join(base, 'records.txt');
    writeFileSync(records, recordsText(this.opts.seed + index, 2 * MiB));
    const proxy = await new ThrottledProxy({ targetPort: hub.mqttPort }).start();
    const clock = new FakeClock(join(base, 'clock'));
    const shutdownMarker = join(base, 'shutdown-called');
    const handle = new AgentHandle({
      dir: base,
      siteId,
      mqttUrl: proxy.url,
      env: clock.env(),
      readyTimeoutMs: READY_TIMEOUT_MS,
      overrides: {
        dataDir,
        hub: { reconnectSeconds: 1, keepaliveSeconds: 5, connectTimeoutSeconds: 5 },
        sampling: { intervalSeconds: 1 },
        outbox: { drainPerSecond: 200, resendAfterSeconds: 10 },
        backup: {
          spool: spoolDir,
          rebaseEvery: 4,
          sources: [
            {
              name: 'records',
              kind: 'command',
              command: ['sh', '-c', `cat ${records}; head -c 1500000 /dev/urandom | base64`],
              tokenizer: 'lines',
              schedule: `*/${this.opts.backupEverySeconds} * * * * *`,
            },
          ],
          retention: { keepLast: 3, keepHourly: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 },
          usb: { mountRoots: [mediaDir], pollSeconds: 1 },
        },
        power: {
          source: { kind: 'nut', host: '127.0.0.1', port: this.nut.port, ups: this.nut.ups, username: 'sec', passwordFile: this.nut.passwordFile('secondary') },
          role: 'secondary',
          pollSeconds: 1,
          finalBackup: { enabled: false },
          // The UPS stays on mains all along: any call of this is a spurious shutdown.
          shutdownCommand: ['touch', shutdownMarker],
        },
      },
    });
    await handle.enroll(hub.httpUrl, await hub.addSite(siteId));
    for (const args of [['key', 'init'], ['disk', 'init', usbDir, '--label', `disco ${index}`]]) {
      const r = await handle.cli(args);
      if (r.code !== 0) throw new Error(`agent ${index}: ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
    }
    const agent = new Supervised(`agent ${index}`, handle, this.crashes, this.startFailures);
    await agent.start();
    return { index, siteId, agent, proxy, clock, dataDir, spoolDir, mediaDir, usbImage, usbDir, usbMounted: true, shutdownMarker };
  }

  async stop(): Promise<void> {
    for (const a of this.agents) {
      await a.agent.stop().catch(() => undefined);
      await a.proxy.close();
    }
    await this.hub?.stop().catch(() => undefined);
    await this.nut?.stop();
  }
}

/** Text records like a clinical dump's lines, from a seed. */
function recordsText(seed: number, bytes: number): string {
  const r = prng(seed);
  const words = ['paciente', 'consulta', 'tensão', 'peso', 'malária', 'HIV', 'TARV', 'pré-natal', 'vacina', 'laboratório', 'farmácia', 'alta'];
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `${i}\t${Array.from({ length: 8 }, () => words[Math.floor(r() * words.length)]).join(' ')}\t${Math.floor(r() * 1e9)}`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n') + '\n';
}
