/** Test helpers: real temp dirs, a real hub on port 0, real mqtt.js clients, captured log lines. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { createLogger, encodeUp, HubConfig, randomToken, sha256Hex, type Logger, type UpMessage } from '@sentinela/shared';
import { startHub, type Hub } from './hub.js';
import { createSite } from './store/sites.js';
import type { Db } from './store/db.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export function tempDir(t: Teardown, prefix = 'sentinela-hub-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export type LogLine = Record<string, unknown> & { level: string; msg: string };

export class LogCapture {
  readonly lines: LogLine[] = [];
  private waiters: Array<() => void> = [];
  readonly logger: Logger;

  constructor(level: 'debug' | 'info' = 'info') {
    const sink = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) this.lines.push(JSON.parse(l) as LogLine);
        for (const w of this.waiters.splice(0)) w();
        cb();
      },
    });
    this.logger = createLogger('sentinela-hub-test', level, sink);
  }

  find(pred: (l: LogLine) => boolean): LogLine | undefined {
    return this.lines.find(pred);
  }

  matching(re: RegExp): LogLine[] {
    return this.lines.filter((l) => re.test(l.msg));
  }

  /** Resolves with the first line matching `re`, rejects after `ms`. */
  async waitFor(re: RegExp, ms = 5000): Promise<LogLine> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.lines.find((l) => re.test(l.msg));
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no log line matching ${re} within ${ms} ms; got:\n${this.lines.map((l) => l.msg).join('\n')}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  }
}

export function testConfig(dataDir: string, overrides: Record<string, unknown> = {}): HubConfig {
  return HubConfig.parse({
    hubId: 'hub-test',
    dataDir,
    mqtt: { listen: { host: '127.0.0.1', port: 0 }, allowPlaintext: true },
    http: { listen: { host: '127.0.0.1', port: 0 } },
    ...overrides,
  });
}

export interface TestHub {
  hub: Hub;
  config: HubConfig;
  logs: LogCapture;
  db: Db;
}

export async function startTestHub(t: Teardown, overrides: Record<string, unknown> = {}): Promise<TestHub> {
  const dir = tempDir(t);
  const config = testConfig(join(dir, 'data'), overrides);
  const logs = new LogCapture();
  const hub = await startHub(config, logs.logger);
  t.teardown(() => hub.close());
  return { hub, config, logs, db: hub.db };
}

/** Creates a site and gives it a password directly in the DB, as an enrolment would; returns the password. */
export function enrolSite(db: Db, id: string): string {
  createSite(db, { id });
  const password = randomToken(32);
  db.prepare('UPDATE sites SET password_hash = ?, enrolled_at = ? WHERE id = ?').run(sha256Hex(password), new Date().toISOString(), id);
  return password;
}

/** Connects a real mqtt.js client; rejects with the CONNACK error. No reconnects. */
export function connect(t: Teardown, port: number, opts: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...opts });
    t.teardown(() => client.endAsync(true).catch(() => undefined));
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
}

export function connectSite(t: Teardown, port: number, siteId: string, password: string, opts: IClientOptions = {}): Promise<MqttClient> {
  return connect(t, port, { clientId: siteId, username: siteId, password, ...opts });
}

export const STREAM = 'stream-test-0001';

export function birth(site: string, bdSeq = 1, stream = STREAM): UpMessage {
  return {
    v: 1,
    type: 'birth',
    site,
    ts: new Date().toISOString(),
    bdSeq,
    stream,
    agent: { version: '0.1.0', hostname: `${site}-srv`, platform: 'linux', node: process.version },
    outbox: { pending: 3, pendingBytes: 900, oldestTs: null, thinned: 0 },
  };
}

export function death(site: string, bdSeq = 1, clean = false): UpMessage {
  return { v: 1, type: 'death', site, bdSeq, clean };
}

export function status(site: string, seq: number, stream = STREAM, ts = new Date().toISOString()): UpMessage {
  return {
    v: 1,
    type: 'status',
    site,
    stream,
    seq,
    ts,
    host: {
      hostname: `${site}-srv`,
      uptimeSec: 1000,
      cpu: { cores: 4, load1: 0.1, load5: 0.1, load15: 0.1, usagePct: 5 },
      memory: { totalBytes: 8e9, usedBytes: 2e9, availableBytes: 6e9 },
      filesystems: [],
    },
    services: [],
    outbox: { pending: 1, pendingBytes: 100, oldestTs: ts, thinned: 0 },
  };
}

export function event(site: string, seq: number, stream = STREAM, code = 'service.down'): UpMessage {
  return { v: 1, type: 'event', site, stream, seq, ts: new Date().toISOString(), code, severity: 'warning', message: `event ${seq}` };
}

export { encodeUp };

/** Collects the messages a client receives on a topic filter. */
export async function collect(client: MqttClient, filter: string): Promise<{ messages: Array<{ topic: string; json: any }>; next: (ms?: number) => Promise<any> }> {
  const messages: Array<{ topic: string; json: any }> = [];
  let waiter: (() => void) | null = null;
  client.on('message', (topic, payload) => {
    messages.push({ topic, json: JSON.parse(payload.toString('utf8')) });
    waiter?.();
  });
  await client.subscribeAsync(filter, { qos: 1 });
  let read = 0;
  return {
    messages,
    async next(ms = 5000) {
      const deadline = Date.now() + ms;
      while (messages.length <= read) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no message on ${filter} within ${ms} ms`);
        await new Promise<void>((r) => {
          const timer = setTimeout(r, left);
          waiter = () => {
            clearTimeout(timer);
            waiter = null;
            r();
          };
        });
      }
      return messages[read++]!.json;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An MQTT remaining-length varint, for tests that write raw packets. */
export function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}
