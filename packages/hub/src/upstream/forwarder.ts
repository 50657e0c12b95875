/**
 * Store-and-forward to the MoH hub: one batch in flight, sent again on reconnect or when its ack
 * does not come in time; the cursor moves only on the MoH hub's ack (log.ts). The MoH hub drops
 * what it already holds, so a batch sent twice costs bandwidth, never a duplicate.
 */
import { decodeRelayAck, encodeRelay, relayAckTopic, relayBatchTopic, type HubUpstreamConfig, type Logger, type RelayAck } from '@sentinela/shared';
import type { UpstreamLink } from './link.js';
import type { UpstreamLog } from './log.js';

export interface ForwarderStats {
  batchesSent: number;
  batchesResent: number;
  itemsAcked: number;
  itemsRefused: number;
}

export class Forwarder {
  readonly stats: ForwarderStats = { batchesSent: 0, batchesResent: 0, itemsAcked: 0, itemsRefused: 0 };
  private inFlight: { upTo: number; count: number; payload: Buffer; sentAt: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly log: Logger;

  constructor(
    private readonly link: UpstreamLink,
    private readonly store: UpstreamLog,
    private readonly cfg: HubUpstreamConfig,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'upstream' });
    link.on('connected', () => {
      if (this.inFlight) this.send(true);
      else this.pump();
    });
    link.on('message', (topic, payload) => {
      if (topic === relayAckTopic(cfg.relayId)) this.onAck(payload);
    });
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), ms);
  }

  /** Sends the next batch, or sends the one in flight again when its ack is overdue. */
  private pump(): void {
    this.timer = null;
    if (this.closed) return;
    const ackMs = this.cfg.ackTimeoutSeconds * 1000;
    if (!this.link.connected) return this.schedule(this.cfg.pollSeconds * 1000);
    if (this.inFlight) {
      const due = this.inFlight.sentAt + ackMs - Date.now();
      if (due <= 0) this.send(true);
      return this.schedule(Math.max(due, 0) || ackMs);
    }
    const { items, lastN } = this.store.next(this.cfg.batchMessages);
    if (items.length === 0) {
      if (lastN > this.store.cursor()) this.store.ack(lastN); // only rows whose messages are gone: nothing to send
      return this.schedule(this.cfg.pollSeconds * 1000);
    }
    const names = this.store.names(items.map((i) => i.site));
    const payload = encodeRelay({ v: 1, type: 'batch', relay: this.cfg.relayId, province: this.cfg.province, items, ...(Object.keys(names).length ? { names } : {}) });
    this.inFlight = { upTo: items[items.length - 1]!.n, count: items.length, payload, sentAt: 0 };
    this.send(false);
    this.schedule(ackMs);
  }

  private send(again: boolean): void {
    const b = this.inFlight!;
    b.sentAt = Date.now();
    if (again) {
      this.stats.batchesResent++;
      this.log.info({ upTo: b.upTo, items: b.count }, `sending the batch up to ${b.upTo} again (no ack from the MoH hub yet)`);
    } else this.stats.batchesSent++;
    this.link.publish(relayBatchTopic(this.cfg.relayId), b.payload, 1);
  }

  private onAck(payload: Buffer): void {
    const d = decodeRelayAck(payload);
    if (!d.ok) return this.log.warn(`ignored an invalid ack from the MoH hub: ${d.error}`);
    const a: RelayAck = d.message;
    if (a.error) {
      this.log.error({ error: a.error }, `the MoH hub refused this hub's batches: ${a.error}; check upstream.province and the relay's registration ("sentinela-hub relays add" at the MoH hub); retrying in ${this.cfg.ackTimeoutSeconds} s`);
      return; // the batch stays in flight and goes again after ackTimeoutSeconds
    }
    for (const r of a.refused) this.log.warn({ site: r.site, n: r.n }, `the MoH hub refused item ${r.n} of site ${r.site}: ${r.reason}`);
    const before = this.store.cursor();
    if (a.upTo > before) this.store.ack(a.upTo);
    const b = this.inFlight;
    if (!b || a.upTo < b.upTo) return; // an ack of an earlier send
    this.stats.itemsAcked += b.count;
    this.stats.itemsRefused += a.refused.length;
    this.inFlight = null;
    this.schedule(0);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
