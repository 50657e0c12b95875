/**
 * Backups upstream: the DPS hub offers each site's snapshots from its own off-site store to the
 * MoH hub with the sites' backup sync, as the site's agent would, through the same sender
 * (shared sync/: a window of pieces, the rate cap and windows of `upstream.backups`, and what the
 * MoH hub acknowledged kept in `<dataDir>/upstream-backups.json` across restarts). The MoH hub's
 * `need` says which objects (and from which offset) it lacks, and only those cross. The stores are
 * keyless, so no site key is needed; a site's escrowed key is re-sealed to the MoH hub's escrow
 * key (opened here with this hub's escrow key, never written in clear).
 * A snapshot counts as mirrored only on the MoH hub's `done` (recorded in upstream_snapshots).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { escrowAad, sealKey, SyncSender, type HubUpstreamConfig, type Logger, type SyncDone, type SyncOfferPlan } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import type { HubBackupStore } from '../backups/store.js';
import { unsealSiteKey } from '../backups/escrow.js';
import type { UpstreamLink } from './link.js';

export class BackupMirror {
  readonly sender: SyncSender;
  snapshotsMirrored = 0;
  private readonly log: Logger;
  /** Sites whose last offer the MoH hub refused (quota, missing base), until when their snapshots wait. */
  private readonly refused = new Map<string, number>();
  private readonly st;

  constructor(
    link: UpstreamLink,
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
    this.sender = new SyncSender(
      {
        peer: 'the MoH hub',
        task: 'backup mirroring',
        logger: this.log,
        connected: () => link.connected,
        publish: (topic, payload, qos) => link.publish(topic, payload, qos),
        next: () => this.next(),
        escrow: (site, escrowKey, held) => this.maybeEscrow(site, escrowKey, held),
        done: (plan, m, sentBytes) => this.done(plan, m, sentBytes),
      },
      { pacing: cfg.backups, progressFile: join(dataDir, 'upstream-backups.json'), idlePollMs: cfg.backups.everySeconds * 1000 },
    );
    link.on('message', (topic, payload) => {
      if (topic.includes('/down/sync/')) this.sender.onMessage(topic, payload);
    });
    link.on('connected', () => this.sender.connected());
    // A lost connection ends the offer at once; the next `need` says where to resume.
    link.on('disconnected', () => this.sender.disconnected());
    if (link.connected) this.sender.connected();
  }

  /** The oldest snapshot the MoH hub does not hold yet, per site in order (so a delta's base goes before it). */
  private async next(): Promise<SyncOfferPlan | null> {
    const now = Date.now();
    for (const { site_id: site, id } of this.st.todo.all(this.cfg.relayId) as Array<{ site_id: string; id: string }>) {
      if ((this.refused.get(site) ?? 0) > now) continue;
      this.refused.delete(site);
      const repo = this.store.store(site);
      const meta = await repo.readMeta();
      const env = await repo.readEnvelope(id);
      const sizes = await Promise.all(env.objects.map(async (o) => (await stat(repo.objectPath(o))).size));
      return { site, keyId: meta.keyId, env, sizes, objectPath: (o) => repo.objectPath(o) };
    }
    return null;
  }

  private done(plan: SyncOfferPlan, m: SyncDone, sentBytes: number): void {
    const { site } = plan;
    if (!m.ok) {
      // The site's later snapshots wait for the next round: a delta is refused without its base.
      this.refused.set(site, Date.now() + this.cfg.backups.everySeconds * 1000);
      this.log.warn({ site, snapshot: m.snapshot, reason: m.reason }, `the MoH hub refused snapshot ${m.snapshot} of site ${site}: ${m.reason ?? 'no reason given'}`);
      return;
    }
    this.st.mirrored.run(this.cfg.relayId, site, m.snapshot, new Date().toISOString());
    this.snapshotsMirrored++;
    this.log.info(
      { site, snapshot: m.snapshot, sentBytes, counters: this.sender.progress.counters },
      `snapshot ${m.snapshot} of site ${site} is held by the MoH hub (${sentBytes} bytes sent for it in this offer)`,
    );
  }

  private maybeEscrow(site: string, escrowKey: string | null, held: boolean): void {
    if (held || !escrowKey || !this.cfg.backups.escrowKeys) return;
    const own = unsealSiteKey(this.db, this.dataDir, site);
    if (!own) return; // the site never deposited its key here
    try {
      const sealed = sealKey(own.key, Buffer.from(escrowKey, 'base64'), escrowAad(site, own.keyId));
      this.sender.sendEscrow(site, own.keyId, sealed);
      this.log.info({ site, keyId: own.keyId }, `deposited site ${site}'s backup key with the MoH hub (sealed to its escrow key)`);
    } finally {
      own.key.fill(0);
    }
  }

  close(): void {
    this.sender.close();
  }
}
