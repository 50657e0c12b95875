/**
 * The sending end of backup sync (docs/protocol.md, "Backup sync"), one for both senders: an
 * agent's off-site copy to its hub (agent offsite/) and a DPS hub's mirror to the MoH hub (hub
 * upstream/). It offers one snapshot at a time (its host says which), sends only the objects (and
 * the parts of objects) the receiver says it lacks, with at most `inflightPieces` pieces
 * unacknowledged at once, within the rate cap and the daily windows, and hands the receiver's
 * `done` back to the host. What the receiver acknowledged is kept on disk (SyncProgress), so that
 * after a restart no acknowledged piece is sent again.
 *
 * Pieces go at QoS 0: the receiver's `got` is the receipt. (At QoS 1 mqtt.js would resend its own
 * copies after a reconnect, including pieces the receiver had already acknowledged.)
 */
import type { Logger } from '../runtime/logger.js';
import { readRange } from '../runtime/read-range.js';
import type { SnapshotEnvelope } from '../repository/store.js';
import { decodeSyncDown, encodeSyncUp, pieceHash, syncUpTopic, type SealedKey, type SyncDone, type SyncEscrowed, type SyncGot, type SyncNeed, type SyncUpMessage } from '../protocol/sync.js';
import { ByteBudget } from './budget.js';
import { SyncProgress } from './progress.js';

export interface SyncPacing {
  /** Bytes of object per piece (one MQTT message). */
  pieceBytes: number;
  /** Pieces sent and not yet acknowledged at once. */
  inflightPieces: number;
  /** A piece (or an offer) not answered within this many seconds is sent again. */
  pieceTimeoutSeconds: number;
  /** Most bytes per second of pieces (absent: no cap). */
  rateBytesPerSecond?: number | undefined;
  /** When pieces may be sent ("19:00-06:00", local time); empty: at any time. */
  windows: readonly string[];
}

/** One snapshot to offer, as the host found it. */
export interface SyncOfferPlan {
  site: string;
  keyId: string;
  env: SnapshotEnvelope;
  /** Stored size of each of `env.objects`, in its order. */
  sizes: number[];
  /** Where an object's stored bytes are read from. */
  objectPath(object: string): string;
}

/** What the sender needs from the program it runs in. */
export interface SyncSenderHost {
  /** The receiver, as log lines name it ("the hub", "the MoH hub"). */
  readonly peer: string;
  /** What the sending is called in log lines ("off-site copy", "backup mirroring"). */
  readonly task: string;
  readonly logger: Logger;
  connected(): boolean;
  publish(topic: string, payload: Buffer, qos: 0 | 1): void;
  /** The next snapshot to offer, or null when there is none now. */
  next(): Promise<SyncOfferPlan | null>;
  /** Milliseconds to hold new pieces back (the agent's status and events go first); 0: go on. */
  holdBack?(): number;
  /** The receiver's word on escrow, from `need` and `done`: its escrow key, and whether it holds the site's key. */
  escrow?(site: string, escrowKey: string | null, held: boolean): void;
  escrowed?(m: SyncEscrowed): void;
  /** The receiver holds the offered snapshot (`m.ok`) or refused it. `sentBytes`: piece bytes sent in this offer. */
  done(plan: SyncOfferPlan, m: SyncDone, sentBytes: number): void;
}

export interface SyncSenderOptions {
  pacing: SyncPacing;
  /** Where SyncProgress keeps what the receiver acknowledged. */
  progressFile: string;
  /** The site a version-1 progress file (keyed by object alone) belongs to. */
  legacySite?: string;
  /** How soon `next()` is asked again after it had nothing, or after an error (ms). */
  idlePollMs: number;
}

interface ObjectPlan {
  total: number;
  /** Next offset to put on the wire. */
  send: number;
}

interface Current {
  plan: SyncOfferPlan;
  offeredAt: number;
  need: Map<string, ObjectPlan> | null;
  sentBytes: number;
}

/** Outside the windows, how often to look whether one has opened. */
const WINDOW_POLL_MS = 60_000;

export class SyncSender {
  readonly progress: SyncProgress;
  private readonly budget: ByteBudget;
  private current: Current | null = null;
  private readonly inflight = new Map<string, { object: string; offset: number; at: number }>();
  private timer: NodeJS.Timeout | null = null;
  private windowShut = false;
  private busy = false;
  private again = false;
  private closed = false;

  constructor(
    private readonly host: SyncSenderHost,
    private readonly opts: SyncSenderOptions,
  ) {
    this.progress = new SyncProgress(opts.progressFile, opts.legacySite);
    this.budget = new ByteBudget(opts.pacing.rateBytesPerSecond, opts.pacing.windows);
  }

  /** No snapshot on offer: a new one may be offered at once. */
  get idle(): boolean {
    return this.current === null;
  }

  /** A new connection: the receiver may have restarted, so offer again; its `need` says where each object resumes. */
  connected(): void {
    this.reset();
    this.wake();
  }

  disconnected(): void {
    this.reset();
  }

  private reset(): void {
    this.current = null;
    this.inflight.clear();
  }

  wake(delay = 0): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.pump();
    }, delay);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.progress.flush();
  }

  /** Deposits a site's master key, sealed to the receiver's escrow key (protocol/escrow). */
  sendEscrow(site: string, keyId: string, sealed: SealedKey): void {
    this.publish({ v: 1, type: 'escrow', site, keyId, sealed });
  }

  private publish(m: SyncUpMessage, data?: Buffer): void {
    this.host.publish(syncUpTopic(m.site, m.type), encodeSyncUp(m, data), m.type === 'piece' ? 0 : 1);
  }

  /** One step: offer, or send the pieces the window, the budget and the host allow. Never two at once. */
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
      this.host.logger.error({ err: (err as Error).message }, `${this.host.task}: ${(err as Error).message}`);
      this.reset();
      this.wake(this.opts.idlePollMs);
    } finally {
      this.busy = false;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    }
  }

  /** Returns when to look again (ms), or null to wait for a message from the receiver. */
  private async step(): Promise<number | null> {
    const { host } = this;
    const pacing = this.opts.pacing;
    if (this.closed || !host.connected()) return null;
    const now = Date.now();
    const timeout = pacing.pieceTimeoutSeconds * 1000;
    if (!this.budget.open()) {
      if (!this.windowShut) host.logger.info({ windows: pacing.windows }, `${host.task} waits: outside the sending windows ${pacing.windows.join(', ')}`);
      this.windowShut = true;
      return WINDOW_POLL_MS;
    }
    this.windowShut = false;

    if (!this.current) {
      const plan = await host.next();
      if (!plan) return this.opts.idlePollMs;
      if (this.closed || !host.connected()) return null;
      this.current = { plan, offeredAt: now, need: null, sentBytes: 0 };
      this.publish({ v: 1, type: 'offer', site: plan.site, keyId: plan.keyId, snapshot: { ...plan.env }, sizes: plan.sizes });
      return timeout;
    }
    const cur = this.current;
    if (!cur.need) {
      if (now - cur.offeredAt < timeout) return cur.offeredAt + timeout - now;
      this.current = null; // no answer: offer again
      return 0;
    }
    const site = cur.plan.site;

    // Pieces whose receipt did not come in time (a cut connection): send again from the first.
    for (const [k, p] of this.inflight) {
      if (now - p.at < timeout) continue;
      this.progress.count('timedOut');
      this.rewind(p.object, Math.max(p.offset, this.progress.acked(site, p.object)));
      this.inflight.delete(k);
    }
    const hold = host.holdBack?.() ?? 0;
    if (hold > 0) return hold;

    while (this.inflight.size < pacing.inflightPieces) {
      const wait = this.budget.wait();
      if (wait > 0) return wait;
      const pick = [...cur.need].find(([, o]) => o.send < o.total);
      if (!pick) break;
      const [object, o] = pick;
      const offset = o.send;
      const len = Math.min(pacing.pieceBytes, o.total - offset);
      const data = await readRange(cur.plan.objectPath(object), offset, len);
      if (this.current !== cur || !host.connected()) return null;
      if (o.send !== offset) return 0; // a receipt moved this object while the piece was read: plan again
      this.publish({ v: 1, type: 'piece', site, snapshot: cur.plan.env.id, object, offset, total: o.total, sha256: pieceHash(data) }, data);
      this.progress.sent(site, object, offset, len);
      this.inflight.set(`${object}@${offset}`, { object, offset, at: Date.now() });
      o.send = offset + len;
      cur.sentBytes += len;
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

  /** A message on a `…/down/sync/…` topic from the receiver. */
  onMessage(topic: string, payload: Buffer): void {
    const d = decodeSyncDown(topic, payload);
    if (!d.ok) {
      this.host.logger.warn({ topic, code: d.error.code }, `ignored an invalid backup sync message from ${this.host.peer}: ${d.error.message}`);
      return;
    }
    const m = d.message;
    if (m.type === 'need') this.onNeed(m);
    else if (m.type === 'got') this.onGot(m);
    else if (m.type === 'done') this.onDone(m);
    else this.host.escrowed?.(m);
    this.wake();
  }

  private isCurrent(site: string, snapshot: string): Current | null {
    const cur = this.current;
    return cur && cur.plan.site === site && cur.plan.env.id === snapshot ? cur : null;
  }

  private onNeed(m: SyncNeed): void {
    this.host.escrow?.(m.site, m.escrowKey, m.escrowHeld);
    const cur = this.isCurrent(m.site, m.snapshot);
    if (!cur || cur.need) return; // stale (an older connection's answer)
    const { env, sizes } = cur.plan;
    const size = new Map(env.objects.map((o, i) => [o, sizes[i]!]));
    cur.need = new Map();
    for (const { object, offset } of m.missing) {
      const total = size.get(object);
      if (total === undefined) continue;
      // The receiver's offset is the truth; never below what it already acknowledged (a stale `need` after a reconnect).
      cur.need.set(object, { total, send: Math.max(offset, Math.min(this.progress.acked(m.site, object), total)) });
    }
    const plans = [...cur.need.values()];
    const resumeBytes = plans.reduce((n, o) => n + o.send, 0);
    const toSend = plans.reduce((n, o) => n + o.total - o.send, 0);
    this.host.logger.info(
      { site: m.site, snapshot: m.snapshot, objects: plans.length, resumeBytes, toSend },
      `${this.host.peer} lacks ${plans.length} objects of ${m.snapshot}: ${toSend} bytes to send${resumeBytes ? `, resuming after ${resumeBytes} bytes it already holds` : ''}`,
    );
  }

  private onGot(m: SyncGot): void {
    const cur = this.isCurrent(m.site, m.snapshot);
    const o = cur?.need?.get(m.object);
    const key = `${m.object}@${m.offset}`;
    const ours = cur !== null && this.inflight.has(key);
    if (m.ok) {
      // A receipt that comes after its piece timed out still acknowledges it, once (the resent copy's receipt advances nothing).
      if (ours || (cur !== null && m.next > this.progress.acked(m.site, m.object))) this.progress.count('acked');
      this.progress.ack(m.site, m.object, m.next);
      if (cur) this.inflight.delete(key);
      if (o && o.send < m.next) o.send = m.next;
      return;
    }
    this.progress.count('refused');
    if (!ours) return; // a refusal of a piece already rewound past
    this.host.logger.warn(
      { site: m.site, object: m.object, offset: m.offset, next: m.next },
      `${this.host.peer} refused a piece of object ${m.object} at ${m.offset} (${m.reason ?? 'no reason'}); sending again from ${m.next}`,
    );
    this.inflight.delete(key);
    if (o) {
      // Never below what the receiver acknowledged: a late refusal must not make acked pieces go again.
      o.send = Math.max(m.next, this.progress.acked(m.site, m.object));
      for (const [k, p] of this.inflight) if (p.object === m.object) this.inflight.delete(k);
    }
  }

  private onDone(m: SyncDone): void {
    this.host.escrow?.(m.site, m.escrowKey ?? null, m.escrowHeld ?? true);
    const cur = this.isCurrent(m.site, m.snapshot);
    if (!cur) return;
    if (m.ok) this.progress.forget(m.site, cur.plan.env.objects);
    this.current = null;
    this.inflight.clear();
    this.host.done(cur.plan, m, cur.sentBytes);
  }
}
