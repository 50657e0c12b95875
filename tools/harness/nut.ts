/**
 * A real NUT upsd with the dummy-ups driver in a temp folder, on a free loopback port, for tests:
 * the UPS's variables live in a .dev file the driver re-reads every 2 s, or `pollInterval` (`set()` rewrites it).
 * Runs /lib/nut's binaries directly (Debian's /usr/sbin/upsd wrapper wants /etc/nut/nut.conf).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { tempDir } from './tmp.js';
import { waitFor } from './wait.js';
import { freePort } from './tcp.js';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export const NUT_USERS = {
  /** May raise FSD and run every instant command: what a primary logs in as. */
  primary: { username: 'mon', password: 'secret' },
  secondary: { username: 'sec', password: 'secret2' },
  /** Logged in, but no instant commands and no FSD. */
  viewer: { username: 'viewer', password: 'secret3' },
  /** In upsd.users with instant commands but no upsmon line: LOGIN is refused (ERR ACCESS-DENIED). */
  nomon: { username: 'nomon', password: 'secret4' },
};

/** One request on a fresh connection; the raw answer lines (a test's own view of upsd). */
export function nutAsk(port: number, lines: string[], timeoutMs = 3000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`upsd on ${port} did not answer in ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('connect', () => s.write(lines.join('\n') + '\nLOGOUT\n'));
    s.on('data', (d) => (buf += d.toString()));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(buf.split('\n').filter(Boolean));
    });
  });
}

export type UpsVars = Record<string, string | number>;

export class NutServer {
  readonly dir: string;
  readonly ups = 'fake';
  port = 0;
  readonly upsdLines: string[] = [];
  private driver: ChildProcess | null = null;
  private upsd: ChildProcess | null = null;
  private readonly removeDir: () => void;
  private vars: UpsVars;

  constructor(initial: UpsVars = { 'ups.status': 'OL', 'battery.charge': 100, 'battery.runtime': 1800 }, opts: { maxAge?: number; pollInterval?: number } = {}) {
    const t = tempDir('nut');
    this.dir = t.path;
    this.removeDir = t.remove;
    this.vars = { ...initial };
    mkdirSync(join(this.dir, 'state'), { mode: 0o777 });
    chmodSync(join(this.dir, 'state'), 0o777);
    writeFileSync(join(this.dir, 'ups.conf'), `[${this.ups}]\n  driver = dummy-ups\n  port = ${join(this.dir, 'fake.dev')}\n  desc = "test UPS"\n${opts.pollInterval ? `  pollinterval = ${opts.pollInterval}\n` : ''}`);
    writeFileSync(join(this.dir, 'nut.conf'), 'MODE=standalone\n');
    const u = NUT_USERS;
    writeFileSync(
      join(this.dir, 'upsd.users'),
      `[${u.primary.username}]\n  password = ${u.primary.password}\n  upsmon primary\n  instcmds = ALL\n  actions = SET FSD\n` +
        `[${u.secondary.username}]\n  password = ${u.secondary.password}\n  upsmon secondary\n` +
        `[${u.viewer.username}]\n  password = ${u.viewer.password}\n  upsmon secondary\n` +
        `[${u.nomon.username}]\n  password = ${u.nomon.password}\n  instcmds = ALL\n`,
      { mode: 0o640 },
    );
    this.maxAge = opts.maxAge;
    this.writeDev();
  }

  private readonly maxAge: number | undefined;

  private get env(): NodeJS.ProcessEnv {
    return { ...process.env, NUT_CONFPATH: this.dir, NUT_STATEPATH: join(this.dir, 'state') };
  }

  private writeDev(): void {
    const text = Object.entries(this.vars).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n';
    // temp file + rename: the driver never reads a half-written file
    const tmp = join(this.dir, 'fake.dev.tmp');
    writeFileSync(tmp, text);
    renameSync(tmp, join(this.dir, 'fake.dev'));
  }

  /** Starts the driver then upsd, and waits until upsd serves the UPS's status. */
  async start(): Promise<this> {
    if (!this.port) this.port = await freePort();
    writeFileSync(join(this.dir, 'upsd.conf'), `LISTEN 127.0.0.1 ${this.port}\n${this.maxAge ? `MAXAGE ${this.maxAge}\n` : ''}`);
    await this.startDriver();
    await this.startUpsd();
    return this;
  }

  async startDriver(): Promise<void> {
    this.driver = this.spawn('/lib/nut/dummy-ups', ['-a', this.ups, '-u', 'root', '-D'], null);
    if (this.upsd) await this.waitStatus((s) => s !== 'WAIT');
    else await waitFor('the dummy-ups socket', () => readdirSync(join(this.dir, 'state')).some((f) => f.startsWith('dummy-ups')), 10_000);
  }

  async startUpsd(): Promise<void> {
    this.upsd = this.spawn('/lib/nut/upsd', ['-u', 'root', '-D'], this.upsdLines);
    await this.waitStatus((s) => s !== 'WAIT');
  }

  private spawn(bin: string, args: string[], lines: string[] | null): ChildProcess {
    const child = spawn(bin, args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    child.on('exit', () => live.delete(child));
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => lines?.push(...d.toString().split('\n').filter(Boolean)));
    return child;
  }

  /** Rewrites the driver's .dev file; `waitSeen` waits until upsd reports the new ups.status. */
  async set(vars: UpsVars, waitSeen = true): Promise<void> {
    this.vars = { ...this.vars, ...vars };
    this.writeDev();
    if (waitSeen && vars['ups.status'] !== undefined) {
      const want = String(vars['ups.status']);
      await this.waitStatus((s) => s === want || s.endsWith(` ${want}`) || s.startsWith(`${want}`), 15_000);
    }
  }

  async status(): Promise<string> {
    const lines = await nutAsk(this.port, [`GET VAR ${this.ups} ups.status`]);
    const m = /^VAR \S+ ups\.status "(.*)"$/.exec(lines[0] ?? '');
    if (!m) throw new Error(`upsd answered ${lines[0]}`);
    return m[1]!;
  }

  async waitStatus(pred: (status: string) => boolean, timeoutMs = 15_000): Promise<string> {
    return waitFor(`upsd on ${this.port} to report the wanted ups.status`, async () => {
      const s = await this.status();
      return pred(s) ? s : null;
    }, timeoutMs, 200);
  }

  /** Writes a password file for one of NUT_USERS (what power.source.passwordFile points at). */
  passwordFile(user: keyof typeof NUT_USERS): string {
    const f = join(this.dir, `${user}.password`);
    writeFileSync(f, NUT_USERS[user].password + '\n', { mode: 0o600 });
    return f;
  }

  async stopDriver(): Promise<void> {
    await stopChild(this.driver);
    this.driver = null;
  }

  async stopUpsd(): Promise<void> {
    await stopChild(this.upsd);
    this.upsd = null;
  }

  /** Freezes the driver (SIGSTOP): upsd keeps the connection but its data goes stale after MAXAGE. */
  freezeDriver(frozen: boolean): void {
    this.driver?.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  async stop(): Promise<void> {
    this.driver?.kill('SIGCONT');
    await this.stopUpsd();
    await this.stopDriver();
    this.removeDir();
  }
}

async function stopChild(c: ChildProcess | null): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}
