/**
 * A Mosquitto 2 of the test's own, with the dynamic-security plugin, in a temp folder on a free
 * loopback port (the machine's Mosquitto on 1883 has no such plugin and is shared). Its admin is
 * the hub's broker user, as docs/operations.md tells operators to set it up. As root it stays root
 * (`user root`): Mosquitto would otherwise drop to its own user, which cannot read the test's folder.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { freePort } from './tcp.js';
import { waitFor } from './wait.js';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** Debian's path of the plugin (package mosquitto). */
export const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

export class DynsecMosquitto {
  port = 0;
  readonly admin = { username: 'sentinela-hub', password: 'hub-broker-secret' };
  private proc: ChildProcess | null = null;
  private readonly confFile: string;
  log = '';

  /** `extraConf`: more lines of mosquitto.conf (a benchmark lifts the queue limits). */
  constructor(
    private readonly dir: string,
    private readonly extraConf: readonly string[] = [],
  ) {
    this.confFile = join(dir, 'mosquitto.conf');
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Starts it; a restart keeps the port and the dynsec file (the accounts survive, as on a real server). */
  async start(): Promise<this> {
    if (!existsSync(DYNSEC_PLUGIN)) throw new Error(`${DYNSEC_PLUGIN} is missing: install Debian's mosquitto package`);
    const dynsecFile = join(this.dir, 'dynamic-security.json');
    if (!existsSync(dynsecFile)) execFileSync('mosquitto_ctrl', ['dynsec', 'init', dynsecFile, this.admin.username, this.admin.password], { stdio: 'pipe' });
    this.port ||= await freePort();
    writeFileSync(
      this.confFile,
      [`listener ${this.port} 127.0.0.1`, 'allow_anonymous false', ...(process.getuid?.() === 0 ? ['user root'] : []), `plugin ${DYNSEC_PLUGIN}`, `plugin_opt_config_file ${dynsecFile}`, 'persistence false', ...this.extraConf, ''].join('\n'),
    );
    const p = spawn('mosquitto', ['-c', this.confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    live.add(p);
    p.on('exit', () => live.delete(p));
    this.proc = p;
    await waitFor(`mosquitto listening on ${this.port}`, () => portOpen(this.port), 10_000, 50);
    return this;
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGTERM');
    });
  }

  /** mosquitto_ctrl as the admin: the operator's own view of the broker's accounts. */
  ctrl(args: string[]): string {
    return execFileSync('mosquitto_ctrl', ['-h', '127.0.0.1', '-p', String(this.port), '-u', this.admin.username, '-P', this.admin.password, 'dynsec', ...args], {
      encoding: 'utf8',
    });
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => (s.destroy(), r(true)));
    s.on('error', () => r(false));
  });
}
