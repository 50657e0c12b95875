/** TCP reachability of the services the site depends on (database, web app…). */
import net from 'node:net';
import type { StatusMessage } from '@sentinela/shared';

export type ServiceCheck = StatusMessage['services'][number];

export interface ServiceTarget {
  name: string;
  /** host:port */
  tcp: string;
  timeoutMs: number;
}

function splitHostPort(target: string): { host: string; port: number } {
  const i = target.lastIndexOf(':');
  return { host: target.slice(0, i), port: Number(target.slice(i + 1)) };
}

/** Connects and closes at once. Never throws: a failure is a result with its error text. */
export function probeService(target: ServiceTarget): Promise<ServiceCheck> {
  const { host, port } = splitHostPort(target.tcp);
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    let done = false;
    const finish = (error: string | null) => {
      if (done) return;
      done = true;
      socket.destroy();
      const latencyMs = Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100;
      resolve(
        error === null
          ? { name: target.name, target: target.tcp, up: true, latencyMs }
          : { name: target.name, target: target.tcp, up: false, error },
      );
    };
    const socket = net.connect({ host, port });
    socket.setTimeout(target.timeoutMs);
    socket.once('connect', () => finish(null));
    socket.once('timeout', () => finish(`ETIMEDOUT (no answer within ${target.timeoutMs} ms)`));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
  });
}

export function probeServices(targets: readonly ServiceTarget[]): Promise<ServiceCheck[]> {
  return Promise.all(targets.map(probeService));
}
