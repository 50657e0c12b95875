/**
 * The MoH hub's end of upstream mirroring: takes a relay's batch, creates the sites it has not
 * seen under the relay's province, hands statuses and events to an Ingest of its own (the same
 * validation, dedup by (site, stream, seq) and group commit as for agents) and records births
 * and deaths as facts. The relay's ack goes out only when every item of the batch is durable.
 */
import {
  decodeRelayBatch,
  decodeUp,
  encodeRelay,
  expandRanges,
  relayAckTopic,
  upTopic,
  type AckMessage,
  type Logger,
  type RelayAck,
  type RelayItem,
} from '@sentinela/shared';
import type { Statement } from 'better-sqlite3';
import { Ingest } from '../ingest/ingest.js';
import type { HubMetrics } from '../metrics.js';
import type { Db } from '../store/db.js';
import type { RelayRegistry } from './relays.js';

export type Publisher = (topic: string, payload: Buffer) => Promise<void>;

interface PendingBatch {
  relay: string;
  ack: RelayAck;
  /** `site\0stream\0seq` of the messages not yet committed. */
  keys: Set<string>;
}

export interface RelayReceiverOptions {
  db: Db;
  registry: RelayRegistry;
  logger: Logger;
  metrics: HubMetrics;
  commitIntervalMs: number;
  maxPayloadBytes: number;
  /** hub.yaml mqtt.maxSeqJump and mqtt.maxClockAheadSeconds: the relayed sites' messages are judged as this hub's own. */
  maxSeqJump: number;
  maxClockAheadSeconds: number;
}

const key = (site: string, stream: string, seq: number) => `${site}\u0000${stream}\u0000${seq}`;

export class RelayReceiver {
  /** How acks reach the relay (set once the broker is up). */
  publish: Publisher | null = null;
  readonly ingest: Ingest;
  private pending: PendingBatch[] = [];
  private readonly log: Logger;
  private readonly st: Record<'connection' | 'birth' | 'death' | 'lastSeen' | 'name', Statement>;

  constructor(private readonly opts: RelayReceiverOptions) {
    this.log = opts.logger.child({ component: 'relay' });
    this.ingest = new Ingest({
      db: opts.db,
      logger: opts.logger,
      metrics: opts.metrics,
      commitIntervalMs: opts.commitIntervalMs,
      maxSeqJump: opts.maxSeqJump,
      maxClockAheadSeconds: opts.maxClockAheadSeconds,
      publishAck: async (site, ack) => this.onCommitted(site, ack),
    });
    const db = opts.db;
    this.st = {
      // A fact sent again (a batch resent after a lost ack) is recognised by its whole identity.
      connection: db.prepare(
        `INSERT INTO connections (site_id, bd_seq, kind, clean, at) SELECT :site, :bdSeq, :kind, :clean, :at
         WHERE NOT EXISTS (SELECT 1 FROM connections WHERE site_id = :site AND bd_seq = :bdSeq AND kind = :kind AND at = :at)`,
      ),
      birth: db.prepare('UPDATE sites SET connected = 1, bd_seq = ?, agent_version = coalesce(?, agent_version), birth_at = ? WHERE id = ?'),
      death: db.prepare('UPDATE sites SET connected = 0 WHERE id = ? AND bd_seq = ?'),
      lastSeen: db.prepare('UPDATE sites SET last_seen_at = :at WHERE id = :site AND (last_seen_at IS NULL OR last_seen_at < :at)'),
      name: db.prepare('UPDATE sites SET name = :name WHERE id = :site AND name IS NOT :name'),
    };
  }

  /** One batch from `relay` (the broker checked the topic is its own). Never throws. */
  async handle(relay: string, payload: Buffer): Promise<void> {
    const d = decodeRelayBatch(payload);
    if (!d.ok) {
      this.log.warn({ relay }, `refused a batch from relay ${relay}: ${d.error}`);
      return;
    }
    const b = d.message;
    const upTo = b.items[b.items.length - 1]!.n;
    const province = this.opts.registry.province(relay);
    if (b.relay !== relay || province !== b.province) {
      const error = b.relay !== relay ? `the batch names relay ${b.relay}` : `relay ${relay} is registered for province ${province}, not ${b.province}`;
      this.log.error({ relay }, `refused a batch from relay ${relay}: ${error}`);
      await this.send(relay, { v: 1, type: 'ack', relay, upTo: b.items[0]!.n - 1, refused: [], error });
      return;
    }
    const batch: PendingBatch = { relay, ack: { v: 1, type: 'ack', relay, upTo, refused: [] }, keys: new Set() };
    const facts: Array<RelayItem & { kind: 'connection' }> = [];
    try {
      for (const it of b.items) {
        const claim = this.opts.registry.claim(relay, it.site);
        if (!claim.ok) {
          batch.ack.refused.push({ n: it.n, site: it.site, reason: claim.reason });
          continue;
        }
        if (it.kind === 'connection') {
          facts.push(it);
          continue;
        }
        const refusal = this.accept(it.site, it.payload, batch);
        if (refusal) batch.ack.refused.push({ n: it.n, site: it.site, reason: refusal });
      }
      this.applyFacts(facts);
      // Names only for the sites this relay may speak for (claimed above).
      for (const [site, name] of Object.entries(b.names ?? {})) if (this.opts.registry.relayOf(site) === relay) this.st.name.run({ site, name });
    } catch (err) {
      // Nothing acked: the relay sends the batch again.
      this.log.error({ relay, err: (err as Error).message }, `could not store a batch from relay ${relay}: ${(err as Error).message}`);
      return;
    }
    for (const r of batch.ack.refused) this.log.warn({ relay, site: r.site, n: r.n }, `relay ${relay}: item ${r.n} of site ${r.site} refused: ${r.reason}`);
    if (batch.keys.size === 0) await this.send(relay, batch.ack);
    else this.pending.push(batch);
  }

  /** A status or event as the site sent it; returns why it is refused, or null. */
  private accept(site: string, payload: string, batch: PendingBatch): string | null {
    let type: unknown;
    try {
      type = (JSON.parse(payload) as { type?: unknown }).type;
    } catch {
      return 'payload is not JSON';
    }
    if (type !== 'status' && type !== 'event') return `a relayed message must be a status or an event, not ${JSON.stringify(type)}`;
    const d = decodeUp(upTopic(site, type), Buffer.from(payload, 'utf8'), this.opts.maxPayloadBytes);
    if (!d.ok) return d.error.message;
    const m = d.message as { stream: string; seq: number };
    batch.keys.add(key(site, m.stream, m.seq));
    this.ingest.accept(site, d.message, payload);
    return null;
  }

  private applyFacts(facts: Array<RelayItem & { kind: 'connection' }>): void {
    if (facts.length === 0) return;
    this.opts.db.transaction(() => {
      for (const f of facts) {
        const at = new Date(f.at).toISOString();
        if (this.st.connection.run({ site: f.site, bdSeq: f.bdSeq, kind: f.event, clean: f.clean === null ? null : f.clean ? 1 : 0, at }).changes === 0) continue;
        if (f.event === 'birth') this.st.birth.run(f.bdSeq, f.agentVersion, at, f.site);
        else this.st.death.run(f.site, f.bdSeq);
        this.st.lastSeen.run({ site: f.site, at });
      }
    })();
  }

  /** Ingest committed (and synced) these seqs: batches with nothing left pending are acked. */
  private async onCommitted(site: string, ack: AckMessage): Promise<void> {
    const done: PendingBatch[] = [];
    for (const seq of expandRanges(ack.acked)) {
      const k = key(site, ack.stream, seq);
      for (const b of this.pending) b.keys.delete(k);
    }
    this.pending = this.pending.filter((b) => (b.keys.size === 0 ? (done.push(b), false) : true));
    await Promise.all(done.map((b) => this.send(b.relay, b.ack)));
  }

  private async send(relay: string, ack: RelayAck): Promise<void> {
    if (!this.publish) return;
    await this.publish(relayAckTopic(relay), encodeRelay(ack)).catch((err: Error) =>
      this.log.warn({ relay, err: err.message }, `could not send the ack to relay ${relay}: ${err.message} (it sends the batch again)`),
    );
  }

  async close(): Promise<void> {
    await this.ingest.close();
  }
}
