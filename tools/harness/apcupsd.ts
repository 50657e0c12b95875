/**
 * A real apcupsd 3.14 for system tests: Debian's package, downloaded and unpacked, never installed (it
 * conflicts with nut-server and would remove it). It runs as a `UPSTYPE net` slave of `NisMaster`, a
 * NIS master written here whose UPS the test drives; the agent then reads the slave's own NIS port.
 * apccontrol is replaced by a script that only records events: `doshutdown` writes a marker file.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './tcp.js';
import { tempDir } from './tmp.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

const PACKAGES = ['apcupsd', 'libusb-0.1-4'];

/** The .deb files, kept between runs (a download is ~300 kB). */
function debCache(): string {
  for (const dir of [process.env.SENTINELA_APCUPSD_DEBS, '/var/cache/sentinela-test/apcupsd', join(tmpdir(), 'sentinela-apcupsd-debs')]) {
    if (!dir) continue;
    try {
      mkdirSync(dir, { recursive: true });
      return dir;
    } catch {
      /* not writable: the next one */
    }
  }
  throw new Error('no writable folder for the apcupsd .deb cache');
}

const cachedDeb = (cache: string, pkg: string) => readdirSync(cache).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));

async function download(cache: string): Promise<void> {
  // Into a fresh folder, then renamed: a run that dies mid-download leaves no half file in the cache.
  const part = mkdtempSync(join(cache, 'part-'));
  try {
    const get = () => run('apt-get', ['download', ...PACKAGES], { cwd: part, timeout: 120_000 });
    await get().catch(async () => {
      await run('apt-get', ['update'], { timeout: 300_000 });
      await get();
    });
    for (const f of readdirSync(part)) renameSync(join(part, f), join(cache, f));
  } catch (err) {
    throw new Error(`cannot download ${PACKAGES.join(', ')} with apt-get download: ${(err as Error).message}`);
  } finally {
    rmSync(part, { recursive: true, force: true });
  }
}

/** apcupsd's files unpacked into a temp root (binary in ROOT/sbin, its libusb in ROOT/lib/x86_64-linux-gnu). */
export async function unpackApcupsd(): Promise<{ root: string; remove: () => void }> {
  const cache = debCache();
  if (PACKAGES.some((p) => !cachedDeb(cache, p))) await download(cache);
  const root = tempDir('apcupsd-root');
  for (const p of PACKAGES) await run('dpkg-deb', ['-x', join(cache, cachedDeb(cache, p)!), root.path]);
  return { root: root.path, remove: root.remove };
}

/** STATFLAG bits (apcupsd's defines.h): what a slave reads from its master; STATUS is only for people. */
const FLAG_BITS: Record<string, number> = { ONLINE: 0x8, ONBATT: 0x10, OVERLOAD: 0x20, LOWBATT: 0x40, REPLACEBATT: 0x80 };
const PLUGGED_AND_BATTERY = 0x01000000 | 0x04000000;

export interface MasterUps {
  /** apcupsd's STATUS words, e.g. "ONLINE", "ONBATT", "ONBATT LOWBATT". */
  status: string;
  charge: number;
  minutes: number;
}

/**
 * The NIS master: answers `status` with one length-prefixed record per frame, then a zero-length frame.
 * Framed here and not with the agent's client code, so that a framing mistake there cannot hide.
 */
export class NisMaster {
  port = 0;
  requests = 0;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  constructor(public ups: MasterUps = { status: 'ONLINE', charge: 100, minutes: 30 }) {}

  set(ups: Partial<MasterUps>): void {
    this.ups = { ...this.ups, ...ups };
  }

  private records(): string[] {
    const words = this.ups.status.split(/\s+/).filter(Boolean);
    const flag = words.reduce((f, w) => f | (FLAG_BITS[w] ?? 0), PLUGGED_AND_BATTERY);
    const rec: [string, string][] = [
      ['UPSNAME', 'master'],
      ['MODEL', 'Test UPS'],
      ['UPSMODE', 'Stand Alone'],
      ['STATUS', this.ups.status],
      ['LINEV', words.includes('ONBATT') ? '000.0 Volts' : '230.0 Volts'],
      ['LOADPCT', '020.0 Percent'],
      ['BCHARGE', `${this.ups.charge.toFixed(1)} Percent`],
      ['TIMELEFT', `${this.ups.minutes.toFixed(1)} Minutes`],
      ['STATFLAG', `0x${flag.toString(16).padStart(8, '0').toUpperCase()} Status Flag`],
    ];
    return [...rec.map(([k, v]) => `${k.padEnd(9)}: ${v}\n`), `END APC  : ${new Date().toISOString()}\n`];
  }

  async start(port = this.port): Promise<this> {
    const server = net.createServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => s.destroy());
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const cmd = buf.subarray(2, 2 + buf.readUInt16BE(0)).toString();
          buf = buf.subarray(2 + buf.readUInt16BE(0));
          if (cmd !== 'status') continue;
          this.requests++;
          for (const r of [...this.records(), '']) {
            const body = Buffer.from(r);
            const head = Buffer.alloc(2);
            head.writeUInt16BE(body.length);
            s.write(Buffer.concat([head, body]));
          }
        }
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this;
  }

  /** Closes the port and every open connection: the slave loses its master. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    for (const c of this.sockets) c.destroy();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

export interface ApcupsdLimits {
  /** BATTERYLEVEL: apcupsd shuts the host down on battery at or under this charge (%). */
  batteryLevel: number;
  /** MINUTES: … or at or under this runtime. */
  minutes: number;
}

/** The real apcupsd as a net slave of `master`, serving its own NIS on `nisPort`. */
export class Apcupsd {
  nisPort = 0;
  readonly dir: string;
  readonly output: string[] = [];
  private child: ChildProcess | null = null;
  private readonly removeDir: () => void;

  constructor(private readonly root: string, private readonly master: NisMaster, private readonly limits: ApcupsdLimits) {
    const d = tempDir('apcupsd');
    this.dir = d.path;
    this.removeDir = d.remove;
  }

  /** The events apcupsd ran apccontrol for, in order (onbattery, loadlimit, doshutdown…). */
  events(): string[] {
    const f = join(this.dir, 'apccontrol.log');
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
  }

  /** Whether apcupsd asked for the host's shutdown (its `doshutdown`, which here only writes a marker). */
  get shutdownRequested(): boolean {
    return existsSync(join(this.dir, 'doshutdown'));
  }

  private writeConfig(): string {
    const d = this.dir;
    writeFileSync(join(d, 'apccontrol'), `#!/bin/sh\n# Records events; never shuts anything down.\necho "$1" >> ${d}/apccontrol.log\n[ "$1" = doshutdown ] && date > ${d}/doshutdown\nexit 0\n`, { mode: 0o755 });
    const conf = join(d, 'apcupsd.conf');
    // Keys as in the package's own /etc/apcupsd/apcupsd.conf; the first line is its format marker.
    writeFileSync(
      conf,
      [
        '## apcupsd.conf v1.1 ##',
        'UPSNAME slave',
        'UPSCABLE ether',
        'UPSTYPE net',
        `DEVICE 127.0.0.1:${this.master.port}`,
        'POLLTIME 1',
        `LOCKFILE ${d}`,
        `SCRIPTDIR ${d}`,
        `PWRFAILDIR ${d}`,
        `NOLOGINDIR ${d}`,
        'ONBATTERYDELAY 0',
        `BATTERYLEVEL ${this.limits.batteryLevel}`,
        `MINUTES ${this.limits.minutes}`,
        'TIMEOUT 0',
        'ANNOY 0',
        'NOLOGON disable',
        'KILLDELAY 0',
        'NETSERVER on',
        'NISIP 127.0.0.1',
        `NISPORT ${this.nisPort}`,
        `EVENTSFILE ${d}/apcupsd.events`,
        'EVENTSFILEMAX 10',
        'UPSCLASS standalone',
        'UPSMODE disable',
        'STATTIME 0',
        `STATFILE ${d}/apcupsd.status`,
        'LOGSTATS off',
        'DATATIME 0',
        '',
      ].join('\n'),
    );
    return conf;
  }

  /** Starts apcupsd in the foreground and waits until its NIS answers with data from the master. */
  async start(): Promise<this> {
    this.nisPort = await freePort();
    const conf = this.writeConfig();
    const bin = join(this.root, 'sbin/apcupsd');
    // Its pid file is compiled in (/run/apcupsd.pid): a private /run in a mount namespace keeps the host's untouched.
    const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs tmpfs /run && exec "$0" "$@"', bin, '-b', '-f', conf], {
      env: { ...process.env, LD_LIBRARY_PATH: join(this.root, 'lib/x86_64-linux-gnu') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    child.on('exit', () => live.delete(child));
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (b: Buffer) => this.output.push(...b.toString().split('\n').filter(Boolean)));
    const before = this.master.requests;
    await waitFor('apcupsd to read its master and open its NIS port', async () => {
      if (child.exitCode !== null) throw new Error(`apcupsd exited with code ${child.exitCode}: ${this.output.slice(-10).join(' | ')}`);
      return this.master.requests > before && (await canConnect(this.nisPort));
    }, 15_000, 100);
    return this;
  }

  async stop(): Promise<void> {
    const c = this.child;
    this.child = null;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    this.removeDir();
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
