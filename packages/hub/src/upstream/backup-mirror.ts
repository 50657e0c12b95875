/**
 * Backups upstream: the DPS hub offers each site's snapshots from its own off-site store to the
 * MoH hub with the sites' backup sync (protocol/sync.ts), as the site's agent would: the MoH
 * hub's `need` says which objects (and from which offset) it lacks, and only those cross. The
 * stores are keyless, so no site key is needed; a site's escrowed key is re-sealed to the MoH
 * hub's escrow key (opened here with this hub's escrow key, never written in clear).
 * A snapshot counts as mirrored only on the MoH hub's `done` (recorded in upstream_snapshots).
 */
import { stat } from 'node:fs/promises';
import {
  decodeSyncDown,
  encodeSyncUp,
  escrowAad,
  pieceHash,
  readRange,
  sealKey,
  syncUpTopic,
  type HubUpstreamConfig,
  type Logger,
  type SyncDownMessage,
  type SyncUpMessage,
} from '@sentinela/shared';
import type { Db } from '../store/db.js';
import type { HubBackupStore } from '../backups/store.js';
import { unsealSiteKey } from '../backups/escrow.js';
import type { UpstreamLink } from './link.js';

/** How long an answer from the MoH hub may take before the round gives up (and the next round resumes). */
const ANSWER_TIMEOUT_MS = 60_000;

type Waiter = { pred: (m: SyncDownMessage) => boolean; resolve: (m: SyncDownMessage) => void; reject: (err: Error) => void };

export interface MirrorStats {
  snapshotsMirrored: number;
  piecesSent: number;
  bytesSent: number;
}

export class BackupMirror {
  readonly stats: MirrorStats = { snapshotsMirrored: 0, piecesSent: 0, bytesSent: 0 };
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  private readonly log: Logger;
  private readonly st;

  constructor(
    private readonly link: UpstreamLink,
    private readonly db: Db,
    private readonly store: HubBackupStore,
    private readonly dataDir: string,
    private readonly cfg: HubUpstreamConfig,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'upstream-backups' });
    this.st = {
      todo: db.prepare(`
        SELECT b.site_id, b.id FROM backup_snapshots b
        -- A snapshot the last verify found damaged (or built on a damaged base) stays here until repaired.
        WHERE b.damaged IS NULL
        AND NOT EXISTS (SELECT 1 FROM upstream_snapshots u WHERE u.relay_id = ? AND u.site_id = b.site_id AND u.snapshot_id = b.id)
        ORDER BY b.site_id, b.id`),
      mirrored: db.prepare('INSERT OR IGNORE INTO upstream_snapshots (relay_id, site_id, snapshot_id, at) VALUES (?, ?, ?, ?)'),
    };
    link.on('message', (topic, payload) => {
      if (topic.includes('/down/sync/')) this.onMessage(topic, payload);
    });
    link.on('connected', () => this.kick());
    // A lost connection ends the round at once; the next `need` says where to resume.
    link.on('disconnected', () => this.failWaiters(new Error('the connection to the MoH hub was lost')));
    this.schedule(0);
  }

  /** Runs a round now unless one is running. */
  kick(): void {
    if (this.closed || this.running) return;
    this.running = this.round()
      .catch((err: Error) => this.log.warn({ err: err.message }, `backup mirroring paused: ${err.message}; it resumes where it stopped`))
      .finally(() => {
        this.running = null;
        this.schedule(this.cfg.backups.everySeconds * 1000);
      });
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), ms);
  }

  /** Every whole snapshot the MoH hub does not hold yet, oldest first per site (so a delta's base goes before it). */
  private async round(): Promise<void> {
    const refusedSites = new Set<string>();
    for (const { site_id: site, id } of this.st.todo.all(this.cfg.relayId) as Array<{ site_id: string; id: string }>) {
      if (this.closed || !this.link.connected) return;
      if (refusedSites.has(site)) continue;
      if (!(await this.mirror(site, id))) refusedSites.add(site);
    }
  }

  /** One snapshot; false when the MoH hub refused it (the site's later snapshots wait for the next round). */
  private async mirror(site: string, id: string): Promise<boolean> {
    const repo = this.store.store(site);
    const meta = await repo.readMeta();
    const env = await repo.readEnvelope(id);
    const sizes = await Promise.all(env.objects.map(async (o) => (await stat(repo.objectPath(o))).size));
    const answer = this.waitFor((m) => (m.type === 'need' || m.type === 'done') && m.site === site && m.snapshot === id);
    this.publish({ v: 1, type: 'offer', site, keyId: meta.keyId, snapshot: { v: 1, id: env.id, site: env.site, base: env.base, objects: env.objects, manifest: env.manifest }, sizes }, undefined, 1);
    let m = await answer;
    let sentBytes = 0;
    if (m.type === 'need') {
      this.maybeEscrow(site, m.escrowKey, m.escrowHeld);
      const size = new Map(env.objects.map((o, i) => [o, sizes[i]!]));
      // The done comes right after the last object's `got`: wait for it from the start.
      const done = this.waitFor((x) => x.type === 'done' && x.site === site && x.snapshot === id).then(
        (x) => ({ ok: true as const, x }),
        (err: Error) => ({ ok: false as const, err }),
      );
      for (const { object, offset } of m.missing) sentBytes += await this.sendObject(site, id, object, offset, size.get(object)!);
      const r = await done;
      if (!r.ok) throw r.err;
      m = r.x;
    }
    if (m.type !== 'done') return false;
    this.maybeEscrow(site, m.escrowKey ?? null, m.escrowHeld ?? true);
    if (!m.ok) {
      this.log.warn({ site, snapshot: id, reason: m.reason }, `the MoH hub refused snapshot ${id} of site ${site}: ${m.reason ?? 'no reason given'}`);
      return false;
    }
    this.st.mirrored.run(this.cfg.relayId, site, id, new Date().toISOString());
    this.stats.snapshotsMirrored++;
    this.log.info({ site, snapshot: id, sentBytes }, `snapshot ${id} of site ${site} is held by the MoH hub (${sentBytes} bytes sent for it in this offer)`);
    return true;
  }

  /** An object from `offset`, one piece at a time; the MoH hub's `got` says where to go on. */
  private async sendObject(site: string, snapshot: string, object: string, offset: number, total: number): Promise<number> {
    const path = this.store.store(site).objectPath(object);
    let at = offset;
    let sent = 0;
    while (at < total) {
      const len = Math.min(this.cfg.backups.pieceBytes, total - at);
      const data = await readRange(path, at, len);
      const got = this.waitFor((m) => m.type === 'got' && m.site === site && m.object === object && m.offset === at);
      // QoS 0: the `got` is the receipt (at QoS 1 the client would also resend its own copies after a reconnect).
      this.publish({ v: 1, type: 'piece', site, snapshot, object, offset: at, total, sha256: pieceHash(data) }, data, 0);
      this.stats.piecesSent++;
      this.stats.bytesSent += len;
      sent += len;
      const g = await got;
      if (g.type !== 'got' || g.complete) break;
      at = g.next;
    }
    return sent;
  }

  private maybeEscrow(site: string, escrowKey: string | null | undefined, held: boolean): void {
    if (held || !escrowKey || !this.cfg.backups.escrowKeys) return;
    const own = unsealSiteKey(this.db, this.dataDir, site);
    if (!own) return; // the site never deposited its key here
    try {
      const sealed = sealKey(own.key, Buffer.from(escrowKey, 'base64'), escrowAad(site, own.keyId));
      this.publish({ v: 1, type: 'escrow', site, keyId: own.keyId, sealed }, undefined, 1);
      this.log.info({ site, keyId: own.keyId }, `deposited site ${site}'s backup key with the MoH hub (sealed to its escrow key)`);
    } finally {
      own.key.fill(0);
    }
  }

  private publish(m: SyncUpMessage, data: Buffer | undefined, qos: 0 | 1): void {
    this.link.publish(syncUpTopic(m.site, m.type), encodeSyncUp(m, data), qos);
  }

  private waitFor(pred: (m: SyncDownMessage) => boolean): Promise<SyncDownMessage> {
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pred,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
        reject: (err) => {
          clearTimeout(t);
          reject(err);
        },
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no answer from the MoH hub within ${ANSWER_TIMEOUT_MS / 1000} s`));
      }, ANSWER_TIMEOUT_MS);
      this.waiters.push(w);
    });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const d = decodeSyncDown(topic, payload);
    if (!d.ok) return this.log.warn({ topic }, `ignored an invalid backup sync message from the MoH hub: ${d.error.message}`);
    const w = this.waiters.find((x) => x.pred(d.message));
    if (!w) return;
    this.waiters = this.waiters.filter((x) => x !== w);
    w.resolve(d.message);
  }

  private failWaiters(err: Error): void {
    const all = this.waiters;
    this.waiters = [];
    for (const w of all) w.reject(err);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.failWaiters(new Error('the hub is stopping'));
  }
}
