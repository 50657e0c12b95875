/**
 * The MQTT link to the hub. The outbox is the source of truth: this only reads from it, sends,
 * and deletes what the hub's application-level AckMessage says is committed. Anything mqtt.js
 * holds in memory may be lost (MQTT.js #2015); after every reconnect all unacked rows are sent again
 * and the hub's (stream, seq) receipt makes that idempotent.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { MqttClient, type IClientOptions } from 'mqtt';
import { writeToStream } from 'mqtt-packet';
import { decodeDown, downTopic, encodeUp, upTopic, type AckMessage, type Logger } from '@sentinela/shared';
import type { Outbox } from '../outbox/outbox.js';
import { monotonicNow, TokenBucket } from './token-bucket.js';
import { birthMessage, deathMessage } from './lifecycle.js';
import { hubStream } from './stream.js';

export interface LinkOptions {
  url: string;
  siteId: string;
  username: string;
  password: string;
  caFile?: string | undefined;
  keepaliveSeconds: number;
  connectTimeoutSeconds: number;
  reconnectSeconds: number;
  /** Most unacked messages in flight at once. */
  inflight: number;
  drainPerSecond: number;
  outbox: Outbox;
  logger: Logger;
}

/** The same failure is logged again at most this often while the hub stays unreachable. */
const REPEAT_LOG_MS = 60_000;
const CLOSE_TIMEOUT_MS = 3_000;
/** A failing outbox write (a full disk) is logged at most this often per step. */
const WRITE_FAIL_LOG_MS = 30_000;
// mqtt-packet otherwise builds, at its first packet, a cache of 65,536 two-byte Buffers (one per
// 16-bit number) that stays for the life of the process: ~6 MB of heap (bench agent-rss). The agent
// sends a few packets a minute; writing each number as it goes costs nothing measurable.
writeToStream.cacheNumbers = false;

/** CONNACK codes meaning the credentials were refused (MQTT 3.1.1: 4, 5; MQTT 5: 134, 135). */
const AUTH_REFUSED = new Set([4, 5, 134, 135]);

export interface HubLinkEvents {
  connected: [{ bdSeq: number; sessionPresent: boolean }];
  published: [number[]];
  acked: [{ acked: number; rejected: number }];
  disconnected: [];
}

export class HubLink extends EventEmitter<HubLinkEvents> {
  private client: MqttClient | null = null;
  private bdSeq = 0;
  private wasConnected = false;
  private closing = false;
  /** seq → when it was last sent on this connection. */
  private readonly inflight = new Map<number, number>();
  private readonly bucket: TokenBucket;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  private lastFailure = { key: '', at: 0, count: 0 };
  private readonly writeFailLoggedAt = new Map<string, number>();
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: LinkOptions) {
    super();
    this.bucket = new TokenBucket(opts.drainPerSecond);
    // Live messages go out promptly: every commit to the outbox wakes the drain loop.
    this.unsubscribe = opts.outbox.onAppend(() => this.wake());
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** The underlying mqtt.js client (for tests and diagnostics). */
  get mqttClient(): MqttClient | null {
    return this.client;
  }

  get currentBdSeq(): number {
    return this.bdSeq;
  }

  start(): void {
    if (this.client) return;
    const { opts } = this;
    this.bdSeq = opts.outbox.nextBdSeq();
    const options: IClientOptions = {
      clientId: opts.siteId, // the hub requires clientId = site id
      username: opts.username,
      password: opts.password,
      clean: false, // persistent session: the broker keeps our subscriptions and QoS 1 queue
      protocolVersion: 4,
      keepalive: opts.keepaliveSeconds,
      connectTimeout: opts.connectTimeoutSeconds * 1000,
      reconnectPeriod: opts.reconnectSeconds * 1000,
      // Keep trying after a refused password too: the hub may be restored, the site re-enrolled.
      reconnectOnConnackError: true,
      will: { topic: upTopic(opts.siteId, 'death'), payload: this.willPayload(), qos: 1, retain: false },
    };
    const client = new MqttClient(hubStream(opts.url, opts.caFile ? readFileSync(opts.caFile) : undefined), options);
    this.client = client;
    client.on('connect', (connack) => this.onConnect(connack.sessionPresent));
    client.on('message', (topic, payload) => this.outboxWrite('taking in a message from the hub', () => this.onMessage(topic, payload)));
    client.on('error', (err) => this.onError(err as Error & { code?: string | number }));
    client.on('close', () => this.onClose());
    client.on('reconnect', () => {
      // A new connection attempt gets a new bdSeq, and its will must carry it (counted in memory
      // while the outbox cannot be written: a full disk must not stop the reconnecting).
      const next = this.bdSeq + 1;
      this.bdSeq = this.outboxWrite('counting a connection attempt', () => opts.outbox.nextBdSeq()) ?? next;
      if (client.options.will) client.options.will.payload = this.willPayload();
    });
  }

  /** Runs the drain loop as soon as possible (after an append, an ack, a connect). */
  wake(): void {
    this.schedule(0);
  }

  /** Clean goodbye: a death {clean:true} then a graceful DISCONNECT (so the broker drops the will). */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    if (!client) return;
    const wasConnected = client.connected;
    if (wasConnected) {
      const payload = encodeUp(deathMessage(this.opts.siteId, this.bdSeq, true));
      await withTimeout(
        new Promise<void>((resolve) => client.publish(upTopic(this.opts.siteId, 'death'), payload, { qos: 1 }, () => resolve())),
        CLOSE_TIMEOUT_MS,
      );
    }
    const ended = await withTimeout(new Promise<boolean>((resolve) => client.end(false, {}, () => resolve(true))), CLOSE_TIMEOUT_MS);
    if (!ended) await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
    if (wasConnected) this.opts.logger.info({ site: this.opts.siteId }, `disconnected from hub ${this.opts.url} (agent stopping)`);
  }

  /**
   * Runs an outbox write from an MQTT event handler: a write that fails (a full disk: SQLITE_FULL)
   * is logged, at most once per WRITE_FAIL_LOG_MS for the same step, and the link goes on; an
   * exception here would end the process. Returns undefined when it failed.
   */
  private outboxWrite<T>(what: string, write: () => T): T | undefined {
    try {
      return write();
    } catch (err) {
      const now = monotonicNow();
      if (now - (this.writeFailLoggedAt.get(what) ?? 0) >= WRITE_FAIL_LOG_MS) {
        this.writeFailLoggedAt.set(what, now);
        this.opts.logger.error({ err: (err as Error).message, step: what }, `the outbox could not be written while ${what}: ${(err as Error).message}; the link goes on and tries again`);
      }
      return undefined;
    }
  }

  private willPayload(): Buffer {
    return encodeUp(deathMessage(this.opts.siteId, this.bdSeq, false));
  }

  private onConnect(sessionPresent: boolean): void {
    const { opts } = this;
    const client = this.client!;
    this.wasConnected = true;
    this.lastFailure = { key: '', at: 0, count: 0 };
    client.subscribe([downTopic(opts.siteId, 'ack'), downTopic(opts.siteId, 'cmd')], { qos: 1 }, (err) => {
      if (err) opts.logger.error({ err: err.message }, `could not subscribe to the hub's acks: ${err.message}`);
    });
    const stats = opts.outbox.stats();
    client.publish(upTopic(opts.siteId, 'birth'), encodeUp(birthMessage(opts.siteId, this.bdSeq, opts.outbox.stream, stats)), { qos: 1 });
    // Whatever was in flight on the previous connection may be lost: send it all again.
    this.inflight.clear();
    this.outboxWrite('marking the queue for sending again', () => {
      opts.outbox.resetInflight();
      opts.outbox.setMeta('lastConnectedAt', new Date().toISOString());
    });
    opts.logger.info(
      { site: opts.siteId, bdSeq: this.bdSeq, sessionPresent, queued: stats.pending },
      `connected to hub ${opts.url}; ${stats.pending} messages queued`,
    );
    this.emit('connected', { bdSeq: this.bdSeq, sessionPresent });
    this.wake();
  }

  private onClose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
    if (!this.wasConnected || this.closing) return;
    this.wasConnected = false;
    const queued = this.safePending();
    this.opts.logger.warn(
      { site: this.opts.siteId, queued },
      `disconnected from hub ${this.opts.url}; retrying every ${this.opts.reconnectSeconds} s; ${queued} messages queued`,
    );
    this.emit('disconnected');
  }

  private onError(err: Error & { code?: string | number }): void {
    if (this.closing) return;
    const { logger, url, reconnectSeconds, siteId } = this.opts;
    const code = err.code;
    const key = String(code ?? err.message);
    const now = monotonicNow();
    this.lastFailure.count++;
    if (key === this.lastFailure.key && now - this.lastFailure.at < REPEAT_LOG_MS) return;
    const attempts = this.lastFailure.count;
    this.lastFailure = { key, at: now, count: 0 };
    const queued = this.safePending();
    if (typeof code === 'number' && AUTH_REFUSED.has(code)) {
      logger.error(
        { site: siteId, code, queued },
        `hub ${url} refused the site's password (CONNACK ${code}: ${err.message}); ` +
          `the site must be enrolled again: sentinela-agent enroll --config <agent.yaml> --hub http://HUB:PORT --token <new token>; ` +
          `retrying every ${reconnectSeconds} s; ${queued} messages queued`,
      );
      return;
    }
    const why = typeof code === 'string' ? code : err.message;
    logger.warn(
      { site: siteId, code: code ?? null, queued, attempts },
      `hub unreachable: ${why}; retrying every ${reconnectSeconds} s; ${queued} messages queued`,
    );
  }

  private onMessage(topic: string, payload: Buffer): void {
    const { logger, siteId } = this.opts;
    if (topic.includes('/down/sync/')) return; // backup sync: the offsite module's (offsite/sender.ts)
    const decoded = decodeDown(topic, payload);
    if (!decoded.ok) {
      logger.warn({ topic, code: decoded.error.code }, `ignored an invalid message from the hub on ${topic}: ${decoded.error.message}`);
      return;
    }
    const msg = decoded.message;
    if (msg.site !== siteId) {
      logger.warn({ topic, site: msg.site }, `ignored a message from the hub for site "${msg.site}" (this is "${siteId}")`);
      return;
    }
    if (msg.type === 'cmd') {
      logger.info({ id: msg.id, name: msg.name }, `hub command "${msg.name}" is not supported by this agent yet; ignored`);
      return;
    }
    this.onAck(msg);
  }

  private onAck(msg: AckMessage): void {
    const { logger, outbox } = this.opts;
    if (msg.stream !== outbox.stream) {
      logger.warn({ stream: msg.stream, ours: outbox.stream }, `ignored an ack for stream ${msg.stream} (this outbox is ${outbox.stream})`);
      return;
    }
    const acked = outbox.ackRanges(msg.acked);
    for (const [from, to] of msg.acked) {
      for (const seq of this.inflight.keys()) if (seq >= from && seq <= to) this.inflight.delete(seq);
    }
    for (const r of msg.rejected) {
      outbox.reject(r.seq, r.reason);
      this.inflight.delete(r.seq);
    }
    logger.debug({ acked, rejected: msg.rejected.length }, 'hub acknowledged messages');
    this.emit('acked', { acked, rejected: msg.rejected.length });
    this.wake();
  }

  private schedule(delayMs: number): void {
    if (this.closing) return;
    const due = monotonicNow() + delayMs;
    if (this.timer && this.timerDue <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerDue = Infinity;
      try {
        this.pump();
      } catch (err) {
        // A failing outbox (disk full…) must not kill the process; try again later.
        this.opts.logger.error({ err: (err as Error).message }, `sending from the outbox failed: ${(err as Error).message}`);
        this.schedule(this.opts.reconnectSeconds * 1000);
      }
    }, delayMs);
  }

  /** One step of the drain loop: send what the in-flight window and the rate limit allow, then decide when to look again. */
  private pump(): void {
    const client = this.client;
    if (!client || !client.connected || this.closing) return;
    const { outbox, siteId } = this.opts;
    const now = monotonicNow();
    for (const [seq, at] of this.inflight) if (now - at >= outbox.resendAfterMs) this.inflight.delete(seq);
    const room = this.opts.inflight - this.inflight.size;
    const want = Math.min(room, Math.floor(this.bucket.available(now)));
    const rows = outbox.nextToSend(want, now);
    if (rows.length > 0) {
      for (const row of rows) {
        client.publish(upTopic(siteId, row.kind), row.payload, { qos: 1 }, (err) => {
          if (err && !this.closing) this.opts.logger.debug({ seq: row.seq, err: err.message }, 'publish failed; it will be sent again');
        });
        this.inflight.set(row.seq, now);
      }
      const seqs = rows.map((r) => r.seq);
      outbox.markSent(seqs, now);
      this.bucket.take(rows.length, now);
      this.emit('published', seqs);
    }
    const earliestExpiry = () => {
      let first = Infinity;
      for (const at of this.inflight.values()) first = Math.min(first, at + outbox.resendAfterMs);
      return first === Infinity ? null : Math.max(0, first - now);
    };
    let next: number | null;
    if (want > 0 && rows.length < want) next = earliestExpiry(); // nothing more to send: wait for append/ack or a resend
    else if (this.inflight.size >= this.opts.inflight) next = earliestExpiry(); // window full: wait for acks
    else next = this.bucket.msUntilNext(now); // rate-limited: wait for a token
    if (next !== null) this.schedule(next);
  }

  private safePending(): number {
    try {
      return this.opts.outbox.stats().pending;
    } catch {
      return 0;
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<undefined>((resolve) => (t = setTimeout(() => resolve(undefined), ms)))]).finally(() =>
    clearTimeout(t),
  );
}
