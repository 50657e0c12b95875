/**
 * The agent's off-site copy (docs/protocol.md, "Backup sync"): the shared SyncSender offers the
 * spool's snapshots to the hub one at a time (bases first) and sends what the hub lacks; this
 * module says what to offer, records a snapshot as off-site only when the hub says it is complete,
 * and deposits the backup key in escrow. It shares the MQTT connection with status and events and
 * always yields to them: no new piece while the outbox has anything unacknowledged, and at most
 * `inflightPieces` pieces ahead of an event on the wire.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { escrowAad, sealKey, siteSyncDownFilter, Store, SyncSender, type AgentOffsiteConfig, type SyncDone, type SyncOfferPlan } from '@sentinela/shared';
import type { AgentContext, AgentModule } from '../module.js';
import { backupKeyPath, repositoryPath } from '../paths.js';
import { BackupState, backupStatePath } from '../backup/state.js';
import { MasterKey } from '../repository/keys.js';
import { nextToOffer, objectSizes } from './plan.js';

/** How long a refused offer waits before it is offered again (quota, missing base…). */
const RETRY_REFUSED_MS = 10 * 60 * 1000;
const IDLE_POLL_MS = 30_000;
const YIELD_POLL_MS = 200;

export class OffsiteModule implements AgentModule {
  readonly name = 'offsite';
  readonly sender: SyncSender;
  private readonly cfg: AgentOffsiteConfig;
  private readonly spool: Store;
  private readonly state: BackupState;
  private readonly skip = new Map<string, number>();
  private escrowSentAt = 0;
  private watcher: FSWatcher | null = null;

  constructor(private readonly ctx: AgentContext) {
    this.cfg = ctx.config.offsite!;
    this.spool = new Store(repositoryPath(ctx.config));
    this.state = BackupState.open(backupStatePath(ctx.config));
    this.sender = new SyncSender(
      {
        peer: 'the hub',
        task: 'off-site copy',
        logger: ctx.logger,
        connected: () => ctx.link?.connected ?? false,
        publish: (topic, payload, qos) => ctx.link?.mqttClient?.publish(topic, payload, { qos }),
        next: () => this.next(),
        // Status and events go first.
        holdBack: () => (ctx.outbox.stats().pending > 0 ? YIELD_POLL_MS : 0),
        escrow: (_site, escrowKey, held) => this.maybeEscrow(escrowKey, held),
        escrowed: (m) => {
          this.state.setMeta('offsiteEscrowKeyId', m.keyId);
          ctx.logger.info({ keyId: m.keyId }, 'the hub holds the backup key in escrow (sealed to its key)');
        },
        done: (plan, m) => this.done(plan, m),
      },
      {
        pacing: this.cfg,
        progressFile: join(ctx.config.dataDir, 'offsite.json'),
        legacySite: ctx.siteId,
        idlePollMs: IDLE_POLL_MS,
      },
    );
  }

  start(): void {
    const link = this.ctx.link;
    if (!link || !this.cfg.enabled) return;
    link.on('connected', () => {
      link.mqttClient?.subscribe(siteSyncDownFilter(this.ctx.siteId), { qos: 1 });
      this.sender.connected();
    });
    link.on('disconnected', () => this.sender.disconnected());
    link.mqttClient?.on('message', (topic, payload) => {
      if (topic.includes('/down/sync/')) this.sender.onMessage(topic, payload);
    });
    // Status and events first: every ack of the outbox may be the moment to go on.
    link.on('acked', () => this.sender.wake());
    this.watchSpool();
    if (link.connected) {
      link.mqttClient?.subscribe(siteSyncDownFilter(this.ctx.siteId), { qos: 1 });
      this.sender.connected();
    }
  }

  /** A new snapshot in the spool is offered at once, not at the next idle poll. */
  private watchSpool(): void {
    try {
      this.watcher = watch(join(this.spool.dir, 'snapshots'), () => {
        if (this.sender.idle) this.sender.wake(500);
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null; // watched again at the next offer
      });
    } catch {
      // No spool yet (before the first backup): the idle poll finds it, and watches it from then on.
      this.watcher = null;
    }
  }

  close(): void {
    this.sender.close();
    this.watcher?.close();
    this.state.close();
  }

  /** Snapshot ids the hub holds (as the hub said). */
  atHub(): Set<string> {
    return new Set(this.state.held('hub').map((r) => r.snapshotId));
  }

  private async next(): Promise<SyncOfferPlan | null> {
    if (!this.watcher) this.watchSpool();
    const now = Date.now();
    for (const [id, until] of this.skip) if (until <= now) this.skip.delete(id);
    const env = await nextToOffer(this.spool, this.atHub(), new Set(this.skip.keys()));
    if (!env) return null;
    const meta = await this.spool.readMeta();
    return { site: this.ctx.siteId, keyId: meta.keyId, env, sizes: await objectSizes(this.spool, env), objectPath: (o) => this.spool.objectPath(o) };
  }

  private done(plan: SyncOfferPlan, m: SyncDone): void {
    if (m.ok) {
      const held = this.atHub();
      held.add(m.snapshot);
      this.state.setHeld('hub', [...held], new Date().toISOString());
      this.ctx.logger.info({ snapshot: m.snapshot, counters: this.sender.progress.counters }, `snapshot ${m.snapshot} is off-site: the hub verified and stored every object`);
    } else {
      this.skip.set(plan.env.id, Date.now() + RETRY_REFUSED_MS);
      this.ctx.event('backup.offsite_refused', 'warning', `the hub refused the off-site copy of ${m.snapshot}: ${m.reason ?? 'no reason given'}`, { snapshot: m.snapshot });
    }
  }

  /** Deposits the master key sealed to the hub's escrow key, once per connection at most every minute. */
  private maybeEscrow(escrowKey: string | null, held: boolean): void {
    if (held || !escrowKey || !this.cfg.escrowKey || Date.now() - this.escrowSentAt < 60_000) return;
    this.escrowSentAt = Date.now();
    const path = backupKeyPath(this.ctx.config);
    const keyId = MasterKey.load(path).subkeys().keyId; // also refuses a key file others can read
    const raw = Buffer.from((JSON.parse(readFileSync(path, 'utf8')) as { key: string }).key, 'base64');
    const sealed = sealKey(raw, Buffer.from(escrowKey, 'base64'), escrowAad(this.ctx.siteId, keyId));
    raw.fill(0);
    this.sender.sendEscrow(this.ctx.siteId, keyId, sealed);
  }
}
