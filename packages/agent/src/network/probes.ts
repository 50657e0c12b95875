/** One probe round: a few attempts, loss and mean latency. TCP for the gateway and the hub, DNS lookups. */
import net from 'node:net';
import { Resolver } from 'node:dns/promises';
import type { ProbeResult } from '@sentinela/shared';

type Attempt = { ok: boolean; ms: number; error?: string };

/** `refusedIsUp`: a RST still proves the host answers (a gateway with no open port). */
export function tcpAttempt(host: string, port: number, timeoutMs: number, refusedIsUp = false): Promise<Attempt> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean, error?: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ ok, ms: performance.now() - t0, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => done(false, `no answer in ${timeoutMs} ms`), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', (e: NodeJS.ErrnoException) => done(refusedIsUp && e.code === 'ECONNREFUSED', e.code ?? e.message));
  });
}

export async function dnsAttempt(name: string, servers: string[], timeoutMs: number): Promise<Attempt> {
  const r = new Resolver({ timeout: timeoutMs, tries: 1 });
  if (servers.length) r.setServers(servers);
  const t0 = performance.now();
  try {
    await r.resolve4(name);
    return { ok: true, ms: performance.now() - t0 };
  } catch (err) {
    return { ok: false, ms: performance.now() - t0, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
}

export async function probe(target: string, attempts: number, once: () => Promise<Attempt>): Promise<ProbeResult> {
  const results: Attempt[] = [];
  for (let i = 0; i < attempts; i++) results.push(await once());
  const ok = results.filter((r) => r.ok);
  const lastError = results.filter((r) => !r.ok).pop()?.error;
  return {
    target,
    up: ok.length > 0,
    latencyMs: ok.length ? Math.round((ok.reduce((a, r) => a + r.ms, 0) / ok.length) * 10) / 10 : null,
    lossPct: Math.round(((results.length - ok.length) / results.length) * 1000) / 10,
    ...(lastError && !ok.length ? { error: lastError } : {}),
  };
}

export function splitHostPort(hp: string): { host: string; port: number } {
  const i = hp.lastIndexOf(':');
  return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
}

/** host:port of the hub's broker from hub.mqttUrl (8883 for mqtts, 1883 for mqtt by default). */
export function hubTarget(mqttUrl: string): string {
  const u = new URL(mqttUrl);
  return `${u.hostname}:${u.port || (u.protocol === 'mqtts:' ? 8883 : 1883)}`;
}
