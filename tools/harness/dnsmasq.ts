/**
 * A real DNS server for tests: dnsmasq (Debian's dnsmasq-base) on a free loopback UDP port,
 * answering only the names it is given, asking nobody upstream. Stop and start it on the same
 * port to play a DNS outage.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';

export const DNSMASQ = '/usr/sbin/dnsmasq';

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export class Dnsmasq {
  private child: ChildProcess | null = null;
  port = 0;

  /** `names`: name → IPv4 address. */
  constructor(private readonly names: Record<string, string>) {}

  get server(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freeUdpPort();
    const args = [
      '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--no-poll', '--bind-interfaces',
      '--listen-address=127.0.0.1', `--port=${this.port}`, '--user=root', '--pid-file=', '--log-facility=-',
      // Only these names exist; anything else is NXDOMAIN, never asked upstream.
      '--local=/test/',
      ...Object.entries(this.names).map(([name, ip]) => `--address=/${name}/${ip}`),
    ];
    const child = spawn(DNSMASQ, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    // Ready when it answers: ask for the first name until it does.
    const first = Object.keys(this.names)[0]!;
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) throw new Error(`dnsmasq exited with ${child.exitCode}: ${err.trim()}`);
      const r = new Resolver({ timeout: 200, tries: 1 });
      r.setServers([this.server]);
      if (await r.resolve4(first).then(() => true, () => false)) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`dnsmasq on ${this.server} did not answer: ${err.trim()}`);
  }

  async stop(): Promise<void> {
    const c = this.child;
    this.child = null;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill('SIGTERM');
    });
  }
}
