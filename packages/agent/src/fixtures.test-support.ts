/** Test helpers (not shipped behaviour): temp dirs, message builders, and a tiny test-side "hub" on a real broker. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import net from 'node:net';
import { connect, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import {
  decodeUp,
  downTopic,
  encodeDown,
  PROTOCOL_VERSION,
  siteUpFilter,
  toRanges,
  type Logger,
  type StatusMessage,
  type UpMessage,
} from '@sentinela/shared';

export const BROKER_URL = process.env.SENTINELA_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export function tempDir(t: Teardown, prefix = 'sentinela-agent-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A loopback port nothing listens on (bound once, then released). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export function uniqueSite(prefix = 't'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A logger whose lines are kept for assertions. */
export function memoryLogger(level = 'debug'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

/** A build function for Outbox.append('status', …); `padBytes` makes rows of a chosen size. */
export function statusBuild(site: string, padBytes = 0) {
  return (seq: number, stream: string, ts: string): StatusMessage => ({
    v: PROTOCOL_VERSION,
    site,
    stream,
    seq,
    ts,
    type: 'status',
    host: {
      hostname: 'test-host',
      uptimeSec: 100,
      cpu: { cores: 2, load1: 0.1, load5: 0.1, load15: 0.1, usagePct: 5 },
      memory: { totalBytes: 1000, usedBytes: 500, availableBytes: 500 },
      filesystems: [],
    },
    services: [],
    ...(padBytes > 0 ? { pad: 'x'.repeat(padBytes) } : {}),
  });
}

export function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() - start > timeoutMs) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

export interface Received {
  topic: string;
  message: UpMessage;
  at: number;
}

/**
 * Enough of a hub to test the link alone: subscribes to one site's up topics on the real broker,
 * records what arrives, and acks queued messages when autoAck is on.
 */
export class TestHub {
  readonly received: Received[] = [];
  autoAck = true;
  rejectSeqs = new Map<number, string>();
  private constructor(
    readonly site: string,
    readonly client: MqttClient,
  ) {}

  static async start(site: string): Promise<TestHub> {
    const client = connect(BROKER_URL, { clientId: `testhub-${site}`, clean: true, reconnectPeriod: 200 });
    const hub = new TestHub(site, client);
    client.on('message', (topic, payload) => hub.onMessage(topic, payload));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(siteUpFilter(site), { qos: 1 });
    return hub;
  }

  of<T extends UpMessage['type']>(type: T): Array<Extract<UpMessage, { type: T }>> {
    return this.received.filter((r) => r.message.type === type).map((r) => r.message as Extract<UpMessage, { type: T }>);
  }

  /** Seqs of status and event messages received (with repeats). */
  queuedSeqs(): number[] {
    return this.received.flatMap((r) => (r.message.type === 'status' || r.message.type === 'event' ? [r.message.seq] : []));
  }

  async ack(stream: string, seqs: number[], rejected: Array<{ seq: number; reason: string }> = []): Promise<void> {
    const payload = encodeDown({ v: PROTOCOL_VERSION, site: this.site, type: 'ack', stream, acked: toRanges(seqs), rejected });
    await this.client.publishAsync(downTopic(this.site, 'ack'), payload, { qos: 1 });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }

  private onMessage(topic: string, payload: Buffer): void {
    const d = decodeUp(topic, payload);
    if (!d.ok) throw new Error(`test hub got an invalid message on ${topic}: ${d.error.message}`);
    this.received.push({ topic, message: d.message, at: Date.now() });
    const m = d.message;
    if (this.autoAck && (m.type === 'status' || m.type === 'event')) {
      const reason = this.rejectSeqs.get(m.seq);
      // A message can still arrive while the test hub is closing; its ack is then simply not sent (the agent resends).
      this.ack(m.stream, reason ? [] : [m.seq], reason ? [{ seq: m.seq, reason }] : []).catch(() => undefined);
    }
  }
}

/** Removes a persistent session the tests left on the shared broker. */
export async function purgeSession(clientId: string): Promise<void> {
  const c = connect(BROKER_URL, { clientId, clean: true, reconnectPeriod: 0 });
  await new Promise<void>((resolve) => {
    c.once('connect', () => resolve());
    c.once('error', () => resolve());
  });
  await c.endAsync();
}
