/**
 * The agent's end of backup sync (docs/protocol.md, "Backup sync"): offers the spool's snapshots
 * one at a time (bases first), sends only the objects (and the parts of objects) the hub says it
 * lacks, a few pieces at a time, and records a snapshot as off-site only when the hub says it is
 * complete. It shares the MQTT connection with status and events and always yields to them: no
 * new piece while the outbox has anything unacknowledged, and at most `inflightPieces` pieces
 * ahead of an event on the wire.
 *
 * Pieces go at QoS 0: the hub's `got` is the receipt. (At QoS 1 mqtt.js would resend its own
 * copies after a reconnect, including pieces the hub had already acknowledged.)
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import {
  decodeSyncDown,
  encodeSyncUp,
  escrowAad,
  pieceHash,
  readRange,
  sealKey,
  siteSyncDownFilter,
  Store,
  syncUpTopic,
  type AgentOffsiteConfig,
  type SnapshotEnvelope,
  type SyncDone,
  type SyncGot,
  type SyncNeed,
  type SyncUpMessage,
} from '@sentinela/shared';
import type { AgentContext, AgentModule } from '../module.js';
import { backupKeyPath, repositoryPath } from '../paths.js';
import { BackupState, backupStatePath } from '../backup/state.js';
import { MasterKey } from '../repository/keys.js';
import { OffsiteProgress } from './progress.js';
import { nextToOffer, objectSizes } from './plan.js';
import { ByteBudget } from './rate.js';

/** How long a refused offer waits before it is offered again (quota, missing base…). */
const RETRY_REFUSED_MS = 10 * 60 * 1000;
const IDLE_POLL_MS = 30_000;
const YIELD_POLL_MS = 200;

interface ObjectPlan {
  total: number;
  /** Next offset to put on the wire. */
  send: number;
}

interface Current {
  env: SnapshotEnvelope;
  sizes: number[];
  offeredAt: number;
  need: Map<string, ObjectPlan> | null;
}

export class OffsiteModule implements AgentModule {
  readonly name = 'offsite';
  readonly progress: OffsiteProgress;
  private readonly cfg: AgentOffsiteConfig;
  private readonly spool: Store;
  private readonly state: BackupState;
  private readonly budget: ByteBudget;
  private current: Current | null = null;
  private readonly inflight = new Map<string, { object: string; offset: number; at: number }>();
  private readonly skip = new Map<string, number>();
  private escrowSentAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private watcher: FSWatcher | null = null;
  private windowShut = false;
  private busy = false;
  private again = false;
  private closed = false;

  constructor(private readonly ctx: AgentContext) {
    this.cfg = ctx.config.offsite!;
    this.spool = new Store(repositoryPath(ctx.config));
    this.state = BackupState.open(backupStatePath(ctx.config));
    this.progress = new OffsiteProgress(join(ctx.config.dataDir, 'offsite.json'));
    this.budget = new ByteBudget(this.cfg.rateBytesPerSecond, this.cfg.windows);
  }

  start(): void {
    const link = this.ctx.link;
    if (!link || !this.cfg.enabled) return;
    link.on('connected', () => this.onConnected());
    link.on('disconnected', () => this.reset());
    link.mqttClient?.on('message', (topic, payload) => {
      if (topic.includes('/down/sync/')) this.onMessage(topic, payload);
    });
    // Status and events first: every ack of the outbox may be the moment to go on.
    link.on('acked', () => this.wake());
    this.watchSpool();
    if (link.connected) this.onConnected();
  }

  /** A new snapshot in the spool is offered at once, not at the next idle poll. */
  private watchSpool(): void {
    try {
      this.watcher = watch(join(this.spool.dir, 'snapshots'), () => {
        if (!this.current) this.wake(500);
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null; // watched again at the next step
      });
    } catch {
      // No spool yet (before the first backup): the idle poll finds it, and watches it from then on.
      this.watcher = null;
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.close();
    this.progress.flush();
    this.state.close();
  }

  /** Snapshot ids the hub holds (as the hub said). */
  atHub(): Set<string> {
    return new Set(this.state.held('hub').map((r) => r.snapshotId));
  }

  private onConnected(): void {
    this.ctx.link?.mqttClient?.subscribe(siteSyncDownFilter(this.ctx.siteId), { qos: 1 });
    this.reset();
    this.wake();
  }

  /** A new connection: the hub may have restarted, so offer again; its `need` says where each object resumes. */
  private reset(): void {
    this.current = null;
    this.inflight.clear();
  }

  private wake(delay = 0): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.pump();
    }, delay);
  }

  private publish(m: SyncUpMessage, data?: Buffer): void {
    const client = this.ctx.link?.mqttClient;
    client?.publish(syncUpTopic(this.ctx.siteId, m.type), encodeSyncUp(m, data), { qos: m.type === 'piece' ? 0 : 1 });
  }

  /** One step: offer, or send the pieces the window, the budget and the outbox allow. Never two at once. */
  private async pump(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      const next = await this.step();
      if (next !== null && !this.closed) this.wake(next);
    } catch (err) {
      this.ctx.logger.error({ err: (err as Error).message }, `off-site copy: ${(err as Error).message}`);
      this.current = null;
      this.wake(IDLE_POLL_MS);
    } finally {
      this.busy = false;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    }
  }

  /** Returns when to look again (ms), or null to wait for a message from the hub. */
  private async step(): Promise<number | null> {
    const link = this.ctx.link;
    if (this.closed || !link?.connected) return null;
    const now = Date.now();
    const timeout = this.cfg.pieceTimeoutSeconds * 1000;
    if (!this.budget.open()) {
      if (!this.windowShut) this.ctx.logger.info({ windows: this.cfg.windows }, `off-site copy waits: outside the sending windows ${this.cfg.windows.join(', ')}`);
      this.windowShut = true;
      return 60_000;
    }
    this.windowShut = false;
    if (!this.watcher) this.watchSpool();

    if (!this.current) {
      for (const [id, until] of this.skip) if (until <= now) this.skip.delete(id);
      const env = await nextToOffer(this.spool, this.atHub(), new Set(this.skip.keys()));
      if (!env) return IDLE_POLL_MS;
      const meta = await this.spool.readMeta();
      const sizes = await objectSizes(this.spool, env);
      this.current = { env, sizes, offeredAt: now, need: null };
      this.publish({ v: 1, type: 'offer', site: this.ctx.siteId, keyId: meta.keyId, snapshot: { ...env }, sizes });
      return timeout;
    }
    const cur = this.current;
    if (!cur.need) {
      if (now - cur.offeredAt < timeout) return cur.offeredAt + timeout - now;
      this.current = null; // no answer: offer again
      return 0;
    }

    // Pieces whose receipt did not come in time (a cut connection): send again from the first.
    for (const [k, p] of this.inflight) {
      if (now - p.at < timeout) continue;
      this.progress.count('timedOut');
      this.rewind(p.object, Math.max(p.offset, this.progress.acked(p.object)));
      this.inflight.delete(k);
    }
    // Status and events go first.
    if (this.ctx.outbox.stats().pending > 0) return YIELD_POLL_MS;

    while (this.inflight.size < this.cfg.inflightPieces) {
      const wait = this.budget.wait();
      if (wait > 0) return wait;
      const pick = [...cur.need].find(([, o]) => o.send < o.total);
      if (!pick) break;
      const [object, o] = pick;
      const offset = o.send;
      const len = Math.min(this.cfg.pieceBytes, o.total - offset);
      const data = await readRange(this.spool.objectPath(object), offset, len);
      if (this.current !== cur || !this.ctx.link?.connected) return null;
      if (o.send !== offset) return 0; // a receipt moved this object while the piece was read: plan again
      this.publish({ v: 1, type: 'piece', site: this.ctx.siteId, snapshot: cur.env.id, object, offset, total: o.total, sha256: pieceHash(data) }, data);
      this.progress.sent(object, offset, len);
      this.inflight.set(`${object}@${offset}`, { object, offset, at: Date.now() });
      o.send = offset + len;
      this.budget.take(len);
    }
    let first = Infinity;
    for (const p of this.inflight.values()) first = Math.min(first, p.at + timeout);
    return first === Infinity ? timeout : Math.max(0, first - Date.now());
  }

  private rewind(object: string, to: number): void {
    const o = this.current?.need?.get(object);
    if (o && to < o.send) o.send = to;
    for (const [k, p] of this.inflight) if (p.object === object && p.offset >= to) this.inflight.delete(k);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const d = decodeSyncDown(topic, payload);
    if (!d.ok) {
      this.ctx.logger.warn({ topic, code: d.error.code }, `ignored an invalid backup sync message from the hub: ${d.error.message}`);
      return;
    }
    const m = d.message;
    if (m.site !== this.ctx.siteId) return;
    if (m.type === 'need') this.onNeed(m);
    else if (m.type === 'got') this.onGot(m);
    else if (m.type === 'done') this.onDone(m);
    else {
      this.state.setMeta('offsiteEscrowKeyId', m.keyId);
      this.ctx.logger.info({ keyId: m.keyId }, 'the hub holds the backup key in escrow (sealed to its key)');
    }
    this.wake();
  }

  private onNeed(m: SyncNeed): void {
    const cur = this.current;
    this.maybeEscrow(m.escrowKey, m.escrowHeld);
    if (!cur || cur.env.id !== m.snapshot || cur.need) return; // stale (an older connection's answer)
    const size = new Map(cur.env.objects.map((o, i) => [o, cur.sizes[i]!]));
    cur.need = new Map();
    for (const { object, offset } of m.missing) {
      const total = size.get(object);
      if (total === undefined) continue;
      // The hub's offset is the truth; never below what it already acknowledged to us (a stale `need` after a reconnect).
      cur.need.set(object, { total, send: Math.max(offset, Math.min(this.progress.acked(object), total)) });
    }
    const plans = [...cur.need.values()];
    const resumeBytes = plans.reduce((n, o) => n + o.send, 0);
    const toSend = plans.reduce((n, o) => n + o.total - o.send, 0);
    this.ctx.logger.info(
      { snapshot: m.snapshot, objects: plans.length, resumeBytes, toSend },
      `the hub lacks ${plans.length} objects of ${m.snapshot}: ${toSend} bytes to send${resumeBytes ? `, resuming after ${resumeBytes} bytes it already holds` : ''}`,
    );
  }

  private onGot(m: SyncGot): void {
    const o = this.current?.env.id === m.snapshot ? this.current.need?.get(m.object) : undefined;
    const key = `${m.object}@${m.offset}`;
    if (m.ok) {
      if (this.inflight.has(key)) this.progress.count('acked');
      this.progress.ack(m.object, m.next);
      this.inflight.delete(key);
      if (o && o.send < m.next) o.send = m.next;
      return;
    }
    this.progress.count('refused');
    if (!this.inflight.has(key)) return; // a refusal of a piece already rewound past
    this.ctx.logger.warn({ object: m.object, offset: m.offset, next: m.next }, `the hub refused a piece of object ${m.object} at ${m.offset} (${m.reason ?? 'no reason'}); sending again from ${m.next}`);
    this.inflight.delete(key);
    if (o) {
      // Never below what the hub acknowledged: a late refusal must not make acked pieces go again.
      o.send = Math.max(m.next, this.progress.acked(m.object));
      for (const [k, p] of this.inflight) if (p.object === m.object) this.inflight.delete(k);
    }
  }

  private onDone(m: SyncDone): void {
    this.maybeEscrow(m.escrowKey ?? null, m.escrowHeld ?? true);
    const cur = this.current;
    if (m.ok) {
      const held = this.atHub();
      held.add(m.snapshot);
      this.state.setHeld('hub', [...held], new Date().toISOString());
      if (cur?.env.id === m.snapshot) this.progress.forget(cur.env.objects);
      this.ctx.logger.info({ snapshot: m.snapshot, counters: this.progress.counters }, `snapshot ${m.snapshot} is off-site: the hub verified and stored every object`);
    } else {
      this.skip.set(m.snapshot, Date.now() + RETRY_REFUSED_MS);
      this.ctx.event('backup.offsite_refused', 'warning', `the hub refused the off-site copy of ${m.snapshot}: ${m.reason ?? 'no reason given'}`, { snapshot: m.snapshot });
    }
    if (cur?.env.id === m.snapshot) {
      this.current = null;
      this.inflight.clear();
    }
  }

  /** Deposits the master key sealed to the hub's escrow key, once per connection at most every minute. */
  private maybeEscrow(escrowKey: string | null | undefined, held: boolean): void {
    if (held || !escrowKey || !this.cfg.escrowKey || Date.now() - this.escrowSentAt < 60_000) return;
    this.escrowSentAt = Date.now();
    const path = backupKeyPath(this.ctx.config);
    const keyId = MasterKey.load(path).subkeys().keyId; // also refuses a key file others can read
    const raw = Buffer.from((JSON.parse(readFileSync(path, 'utf8')) as { key: string }).key, 'base64');
    const sealed = sealKey(raw, Buffer.from(escrowKey, 'base64'), escrowAad(this.ctx.siteId, keyId));
    raw.fill(0);
    this.publish({ v: 1, type: 'escrow', site: this.ctx.siteId, keyId, sealed });
  }
}
