/**
 * The hub's end of backup sync (docs/protocol.md, "Backup sync"): answers offers with what it
 * lacks, stores pieces (each checked, then each object against its name), and acks a snapshot
 * only once every object is verified and stored and its envelope written (last). Offers live in
 * memory only: after a hub restart the agent offers again on reconnect, and the partial objects on
 * disk say where each transfer resumes.
 */
import {
  decodeSyncUp,
  escrowAad,
  RepositoryError,
  syncDownTopic,
  encodeSyncDown,
  unsealKey,
  type HubBackupsConfig,
  type Logger,
  type SyncDownMessage,
  type SyncEscrow,
  type SyncOffer,
  type SyncPieceHeader,
} from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { getEscrow, recordSnapshot, saveEscrow } from './catalogue.js';
import type { EscrowKeyPair } from './escrow.js';
import type { HubBackupStore } from './store.js';

export type DownPublisher = (topic: string, payload: Buffer) => Promise<void>;

export interface SyncReceiverOptions {
  db: Db;
  store: HubBackupStore;
  escrow: EscrowKeyPair;
  config: HubBackupsConfig;
  logger: Logger;
  maxPayloadBytes: number;
}

interface OpenOffer {
  offer: SyncOffer;
  receivedBytes: number;
}

export class SyncReceiver {
  /** How the receiver reaches a site (set once the broker is up). */
  publish: DownPublisher | null = null;
  /** Pieces refused (damaged, out of order), for metrics and tests. */
  refusedPieces = 0;
  private readonly offers = new Map<string, Map<string, OpenOffer>>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly log: Logger;

  constructor(private readonly opts: SyncReceiverOptions) {
    this.log = opts.logger.child({ component: 'backup-sync' });
  }

  /**
   * One up/sync/… publish from `siteId` (the broker has checked the topic is the site's own). Never
   * throws. One site's messages are handled one at a time, in arrival order: the broker may hand on
   * the next piece before the last is on disk, and out of order it would be refused as a gap.
   */
  handle(siteId: string, topic: string, payload: Buffer): Promise<void> {
    const next = (this.queues.get(siteId) ?? Promise.resolve()).then(() => this.handleOne(siteId, topic, payload));
    this.queues.set(siteId, next);
    return next.finally(() => {
      if (this.queues.get(siteId) === next) this.queues.delete(siteId);
    });
  }

  private async handleOne(siteId: string, topic: string, payload: Buffer): Promise<void> {
    const d = decodeSyncUp(topic, payload, this.opts.maxPayloadBytes);
    if (!d.ok) {
      this.refusedPieces++;
      this.log.warn({ site: siteId, topic, code: d.error.code }, `refused a backup sync message from site ${siteId} on ${topic}: ${d.error.message}`);
      return;
    }
    try {
      const m = d.message;
      if (m.type === 'offer') await this.onOffer(siteId, m);
      else if (m.type === 'piece') await this.onPiece(siteId, m, d.data);
      else await this.onEscrow(siteId, m);
    } catch (err) {
      this.log.error({ site: siteId, err: (err as Error).message }, `backup sync from site ${siteId} failed: ${(err as Error).message}`);
      const snapshot = (d.message as { snapshot?: unknown }).snapshot;
      const id = typeof snapshot === 'string' ? snapshot : (snapshot as { id?: string } | undefined)?.id;
      if (id && err instanceof RepositoryError) await this.send(siteId, { v: 1, type: 'done', site: siteId, snapshot: id, ok: false, reason: err.message });
    }
  }

  private escrowInfo(siteId: string): { escrowKey: string; escrowHeld: boolean } {
    return { escrowKey: this.opts.escrow.publicRaw.toString('base64'), escrowHeld: getEscrow(this.opts.db, siteId) !== null };
  }

  private async onOffer(siteId: string, offer: SyncOffer): Promise<void> {
    const env = offer.snapshot;
    const done = (ok: boolean, reason?: string) => this.send(siteId, { v: 1, type: 'done', site: siteId, snapshot: env.id, ok, ...(reason ? { reason } : {}), ...this.escrowInfo(siteId) });
    if (env.site !== siteId) return done(false, `the snapshot belongs to site ${env.site}`);
    if (offer.sizes.length !== env.objects.length) return done(false, 'sizes and objects differ in length');
    const store = await this.opts.store.openFor(siteId, offer.keyId);
    if (await store.hasSnapshot(env.id)) return done(true);
    if (env.base && !(await store.hasSnapshot(env.base))) return done(false, `the hub lacks its base ${env.base}: offer the base first`);
    const missing = await this.opts.store.missing(siteId, env);
    const size = new Map(env.objects.map((o, i) => [o, offer.sizes[i]!]));
    const incoming = missing.reduce((n, m) => n + (size.get(m.object) ?? 0) - m.offset, 0);
    const used = await this.opts.store.usage(siteId);
    if (used + incoming > this.opts.config.quotaBytes) {
      this.log.warn({ site: siteId, used, incoming, quota: this.opts.config.quotaBytes }, `site ${siteId} is over its off-site quota: it holds ${used} bytes, snapshot ${env.id} needs ${incoming} more, quota ${this.opts.config.quotaBytes} bytes; the snapshot is refused`);
      return done(false, `over the site's off-site quota (${used} + ${incoming} > ${this.opts.config.quotaBytes} bytes)`);
    }
    let site = this.offers.get(siteId);
    if (!site) this.offers.set(siteId, (site = new Map()));
    const open = site.get(env.id) ?? { offer, receivedBytes: 0 };
    site.set(env.id, open);
    if (missing.length === 0) return this.complete(siteId, open);
    await this.send(siteId, { v: 1, type: 'need', site: siteId, snapshot: env.id, missing, ...this.escrowInfo(siteId) });
  }

  private async onPiece(siteId: string, h: SyncPieceHeader, data: Buffer): Promise<void> {
    const r = await this.opts.store.acceptPiece(siteId, h, data);
    if (!r.ok) {
      this.refusedPieces++;
      this.log.warn({ site: siteId, object: h.object, offset: h.offset, next: r.next }, `refused a piece of object ${h.object} at ${h.offset} from site ${siteId}: ${r.reason}`);
    }
    const open = this.offers.get(siteId)?.get(h.snapshot);
    if (open && r.ok && h.offset + data.length === r.next) open.receivedBytes += data.length;
    await this.send(siteId, { v: 1, type: 'got', site: siteId, snapshot: h.snapshot, object: h.object, offset: h.offset, ok: r.ok, next: r.next, complete: r.complete, ...(r.reason ? { reason: r.reason } : {}) });
    if (!r.complete) return;
    for (const o of [...(this.offers.get(siteId)?.values() ?? [])]) {
      if (!o.offer.snapshot.objects.includes(h.object)) continue;
      if ((await this.opts.store.missing(siteId, o.offer.snapshot)).length === 0) await this.complete(siteId, o);
    }
  }

  /** Every object is verified and stored: the envelope goes last, then the catalogue, then the ack. */
  private async complete(siteId: string, open: OpenOffer): Promise<void> {
    const env = open.offer.snapshot;
    const store = this.opts.store.store(siteId);
    await store.writeEnvelope({ v: 1, id: env.id, site: env.site, base: env.base, objects: env.objects, manifest: env.manifest });
    const now = new Date().toISOString();
    recordSnapshot(this.opts.db, {
      siteId,
      id: env.id,
      base: env.base,
      objects: env.objects.length,
      bytes: open.offer.sizes.reduce((a, b) => a + b, 0),
      receivedBytes: open.receivedBytes,
      receivedAt: now,
      verifiedAt: now, // each object's SHA-256 was checked against its name on arrival
    });
    this.offers.get(siteId)?.delete(env.id);
    this.log.info({ site: siteId, snapshot: env.id, receivedBytes: open.receivedBytes }, `off-site copy of ${env.id} from site ${siteId} complete`);
    await this.send(siteId, { v: 1, type: 'done', site: siteId, snapshot: env.id, ok: true, ...this.escrowInfo(siteId) });
  }

  private async onEscrow(siteId: string, m: SyncEscrow): Promise<void> {
    // Opening it once proves it is sealed to this hub, for this site and key id.
    const key = unsealKey(m.sealed, this.opts.escrow.privatePem, escrowAad(siteId, m.keyId));
    key.fill(0);
    saveEscrow(this.opts.db, siteId, m.keyId, JSON.stringify(m.sealed), new Date().toISOString());
    this.log.info({ site: siteId, keyId: m.keyId }, `site ${siteId} deposited its backup key (sealed to the hub's escrow key)`);
    await this.send(siteId, { v: 1, type: 'escrowed', site: siteId, keyId: m.keyId });
  }

  private async send(siteId: string, m: SyncDownMessage): Promise<void> {
    if (!this.publish) return;
    await this.publish(syncDownTopic(siteId, m.type), encodeSyncDown(m)).catch((err: Error) =>
      this.log.warn({ site: siteId, type: m.type, err: err.message }, `could not send ${m.type} to site ${siteId}: ${err.message} (the agent asks again)`),
    );
  }
}
