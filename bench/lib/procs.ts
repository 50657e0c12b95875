/** Helpers for benchmarks that compare against other programs: CPU time of a process, a private Mosquitto. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { freePort } from '@sentinela/tools/harness/tcp.js';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux ABI Node supports

/** User + system CPU time of a process so far, in ms, from /proc (Linux); undefined elsewhere or when it is gone. */
export function cpuMsOf(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

export interface Mosquitto {
  url: string;
  pid: number | undefined;
  /** What this broker is: "private mosquitto 2.0.11 (…)" or the shared one's address. */
  about: string;
  stop(): Promise<void>;
}

/**
 * A Mosquitto of our own on a free loopback port, with settings written here (so the run does not
 * depend on the machine's broker): no persistence, TCP_NODELAY like the hub, and a per-client queue
 * large enough that the counting subscriber is never dropped from (the default 1000 drops QoS 1
 * messages for a subscriber that falls behind). Falls back to $BENCH_MOSQUITTO_URL or
 * mqtt://127.0.0.1:1883 when there is no mosquitto binary.
 */
export async function startMosquitto(dir: string, maxQueued: number): Promise<Mosquitto> {
  const version = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' });
  const fallback = process.env.BENCH_MOSQUITTO_URL ?? 'mqtt://127.0.0.1:1883';
  if (version.error || process.env.BENCH_MOSQUITTO_URL) {
    return { url: fallback, pid: undefined, about: `the running broker at ${fallback} (its own settings; no CPU figure)`, stop: async () => undefined };
  }
  const v = /mosquitto version (\S+)/.exec(version.stdout)?.[1] ?? '?';
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'set_tcp_nodelay true',
      `max_queued_messages ${maxQueued}`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${stderr}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid,
    about: `mosquitto ${v}, started for this run (persistence false, set_tcp_nodelay true, max_queued_messages ${maxQueued}, other settings default)`,
    async stop() {
      process.off('exit', kill);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
