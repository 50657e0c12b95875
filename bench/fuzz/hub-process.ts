/** A real hub process for the network targets, restarted after a crash, with its refusal counters read from /metrics. */
import { join } from 'node:path';
import { HubHandle } from '@sentinela/tools/harness/fleet.js';

export class FuzzHub {
  readonly hub: HubHandle;
  /** Exits seen so far; a target compares it before and after an input. */
  deaths = 0;
  lastExit = '';
  private restarting: Promise<void> = Promise.resolve();
  private readonly restartedFrom = new WeakSet<HubHandle['proc']>();

  constructor(dir: string) {
    // The lanes send refused messages on purpose, tens a second: with the noisy-site limit (500 a
    // minute) their sites sat out cool-downs, doubling up to an hour, and 43 % of a full run's inputs
    // met CONNACK 3 instead of the code under test. The cool-down has its own test (limits/noisy.test.ts).
    this.hub = new HubHandle({ dir, hubId: 'fuzz-hub', overrides: { mqtt: { noisySites: { maxRefusals: 100_000_000 } } } });
  }

  async start(): Promise<this> {
    await this.hub.start();
    this.watch();
    return this;
  }

  private watch(): void {
    const proc = this.hub.proc;
    void proc.exited.then(({ code, signal }) => {
      this.deaths++;
      // What explains an exit: its error lines and whatever it printed that is not a log line (a stack trace).
      const last = proc.lines.slice(-200).filter((l) => !l.startsWith('{') || /"level":"(error|fatal)"/.test(l));
      this.lastExit = `the hub exited (code ${code}, signal ${signal}); its last error lines:\n${last.slice(-15).join('\n')}`;
    });
  }

  /** Resolves once a restart under way (if any) is done: an input is never sent to a hub that is starting. */
  ready(): Promise<void> {
    return this.restarting;
  }

  /**
   * Starts it again after `dead` exited, once however many callers saw that exit; true for the one
   * caller that restarted it (the one that counts the crash).
   */
  async restartAfter(dead: HubHandle['proc']): Promise<boolean> {
    if (dead !== this.hub.proc || this.restartedFrom.has(dead)) {
      await this.restarting;
      return false;
    }
    this.restartedFrom.add(dead);
    this.restarting = (async () => {
      await dead.exited;
      await this.hub.start();
      this.watch();
    })();
    await this.restarting;
    return true;
  }

  async stop(): Promise<void> {
    await this.hub.proc.stop();
  }

  get dataDir(): string {
    return join(this.hub.opts.dir, 'data');
  }

  /** sentinela_hub_messages_refused_total by reason. */
  async refusedByReason(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    try {
      const text = await (await fetch(`${this.hub.httpUrl}/metrics`)).text();
      for (const m of text.matchAll(/^sentinela_hub_messages_refused_total\{reason="([^"]+)"\} (\S+)$/gm)) out[m[1]!] = Number(m[2]);
    } catch {
      /* a dead hub has no metrics */
    }
    return out;
  }
}
