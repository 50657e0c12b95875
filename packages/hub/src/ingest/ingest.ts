/**
 * Ingest: the one place that turns decoded up messages into rows and acks.
 *
 * Group commit: messages are buffered and committed in one transaction every
 * `commitIntervalMs` (or sooner when `maxBatch` are pending). Only after the commit is an ack
 * published, one per (site, stream), naming every seq of the batch, duplicates included: a
 * duplicate means our earlier ack was lost, so the agent needs it again.
 *
 * With synchronous=FULL (the default), "after the commit" means after the commit's WAL frames
 * reached the disk; that fsync runs off the event loop (see WalSync). Messages that arrive while
 * one sync runs could not be acked before the next anyway, so they are committed together after it
 * ends, once the oldest of them has waited commitIntervalMs (or at maxBatch): one commit and one ack
 * per (site, stream) per sync. Fewer, bigger commits write far fewer WAL pages, since a commit writes
 * about a page per site per index whatever its size.
 */
import { DEFAULT_MAX_CLOCK_AHEAD_SECONDS, DEFAULT_MAX_SEQ_JUMP, toRanges, type AckMessage, type BirthMessage, type DeathMessage, type Logger, type UpMessage } from '@sentinela/shared';
import type { QueuedHead } from './decode-head.js';
import type { Statement } from 'better-sqlite3';
import { canonicalTime, latestStatus, type AckGroup, type Pending, type PendingRow, type StatusRow, type StreamGroup } from './batch.js';
import type { Db } from '../store/db.js';
import type { Sql } from '../store/sql.js';
import { PgHourMarks, writeBatch, type BatchEvents } from './pg-batch.js';
import { HourMarks } from '../store/message-hours.js';
import type { HubMetrics } from '../metrics.js';
import { WalSync } from './wal-sync.js';
import { Checkpointer } from './checkpointer.js';

/** Publishes one ack to a site; resolves when the transport took it. */
export type AckSink = (siteId: string, ack: AckMessage) => Promise<void>;

export interface IngestOptions {
  /** The SQLite store (the embedded default)… */
  db?: Db;
  /**
   * …or a PostgreSQL one (store/postgres.ts; exactly one of the two): each batch is one
   * transaction of a few set statements (pg-batch.ts), one at a time, acked after its commit.
   */
  sql?: Sql;
  logger: Logger;
  metrics: HubMetrics;
  commitIntervalMs: number;
  publishAck: AckSink;
  /**
   * Commit at once when this many messages are pending (default 5,000). Big batches matter: with
   * hundreds of sites a batch writes about one b-tree page per site per index whatever its size,
   * so 500 messages cost nearly as many WAL pages as 2,000. (At 5,000 a commit holds the event
   * loop for some 40 ms; it only comes to that under a flood.)
   */
  maxBatch?: number;
  now?: () => Date;
  /** A rate-limited line about a site (limits/refusals.ts notice); default: the logger. */
  notice?: (key: string, fields: Record<string, unknown>, text: string) => void;
  /** hub.yaml mqtt.maxSeqJump (see seqJump); default DEFAULT_MAX_SEQ_JUMP. */
  maxSeqJump?: number;
  /** hub.yaml mqtt.maxClockAheadSeconds (see futureDated); default DEFAULT_MAX_CLOCK_AHEAD_SECONDS. */
  maxClockAheadSeconds?: number;
}

export class Ingest {
  private pending: Pending[] = [];
  /** When the oldest pending message arrived (performance.now()). */
  private pendingSince = 0;
  private rejections: Array<{ siteId: string; stream: string; seq: number; reason: string }> = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  /** Null when commits are durable on their own (synchronous=NORMAL, or not WAL). */
  private readonly walSync: WalSync | null;
  private readonly hours: HourMarks | null = null;
  /** PostgreSQL: the store, its hour marks and what a batch reports back. */
  private readonly pg: { sql: Sql; hours: PgHourMarks; events: BatchEvents } | null = null;
  private readonly checkpointer: Checkpointer | null;
  /** Acks of committed batches waiting for the next WAL sync. */
  private awaitingSync = new Map<string, AckGroup>();
  private syncing: Promise<void> | null = null;
  private closed = false;
  private readonly log: Logger;
  private readonly maxBatch: number;
  private readonly maxSeqJump: number;
  /** mqtt.maxClockAheadSeconds in ms. */
  private readonly clockAheadMs: number;
  private readonly now: () => Date;
  /** SQLite's statements (not made on PostgreSQL, where nothing calls apply()). */
  private readonly st!: Record<
    'birth' | 'connection' | 'siteBdSeq' | 'death' | 'insertMessage' | 'streamMax' | 'stream' | 'lastStatus' | 'lastStatusOf' | 'setLastStatus' | 'lastSeen',
    Statement
  >;

  constructor(private readonly opts: IngestOptions) {
    this.log = opts.logger.child({ component: 'ingest' });
    this.maxBatch = opts.maxBatch ?? 5000;
    this.maxSeqJump = opts.maxSeqJump ?? DEFAULT_MAX_SEQ_JUMP;
    this.clockAheadMs = (opts.maxClockAheadSeconds ?? DEFAULT_MAX_CLOCK_AHEAD_SECONDS) * 1000;
    this.now = opts.now ?? (() => new Date());
    if (opts.sql) {
      if (opts.db) throw new Error('Ingest takes a SQLite db or a PostgreSQL sql, not both');
      this.walSync = null;
      this.checkpointer = null;
      this.pg = { sql: opts.sql, hours: new PgHourMarks(), events: this.batchEvents() };
      return;
    }
    const db = opts.db;
    if (!db) throw new Error('Ingest needs a store (db or sql)');
    this.walSync = WalSync.for(db);
    this.hours = new HourMarks(db);
    this.checkpointer = Checkpointer.for(db, (message) => this.log.warn({ err: message }, `WAL checkpoint failed: ${message}; the next one tries again`));
    this.st = {
      birth: db.prepare('UPDATE sites SET connected = 1, bd_seq = ?, agent_version = ?, birth_json = ?, birth_at = ? WHERE id = ?'),
      connection: db.prepare('INSERT INTO connections (site_id, bd_seq, kind, clean, at) VALUES (?, ?, ?, ?, ?)'),
      siteBdSeq: db.prepare('SELECT bd_seq FROM sites WHERE id = ?').pluck(),
      death: db.prepare('UPDATE sites SET connected = 0 WHERE id = ?'),
      // A payload may come as its UTF-8 bytes (a blob to SQLite): CAST stores them as the same text.
      insertMessage: db.prepare(
        'INSERT OR IGNORE INTO messages (site_id, stream, seq, type, ts, received_at, payload) VALUES (?, ?, ?, ?, ?, ?, CAST(? AS TEXT))',
      ),
      streamMax: db.prepare('SELECT max_seq FROM streams WHERE site_id = ? AND stream = ?').pluck(),
      // One row per (site, stream) per batch: `count` new rows, the highest seq among them, the seqs jumped over.
      stream: db.prepare(`
        INSERT INTO streams (site_id, stream, max_seq, received_count, first_at, last_at, jumped) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (site_id, stream) DO UPDATE SET
          max_seq = max(max_seq, excluded.max_seq), received_count = received_count + excluded.received_count, last_at = excluded.last_at,
          jumped = jumped + excluded.jumped`),
      // Newer = a later seq of the same stream, or a later time from another stream (a reinstalled agent).
      lastStatus: db.prepare(`
        UPDATE sites SET last_status_json = CAST(:json AS TEXT), last_status_at = :ts, last_status_stream = :stream, last_status_seq = :seq
        WHERE id = :site AND (last_status_at IS NULL
          OR (last_status_stream = :stream AND last_status_seq < :seq)
          OR (last_status_stream IS NOT :stream AND last_status_at <= :ts))`),
      // For a site with several statuses in one batch: the same rule applied in JS (see newerStatus), one write.
      lastStatusOf: db.prepare('SELECT last_status_at AS ts, last_status_stream AS stream, last_status_seq AS seq FROM sites WHERE id = ?'),
      setLastStatus: db.prepare('UPDATE sites SET last_status_json = CAST(? AS TEXT), last_status_at = ?, last_status_stream = ?, last_status_seq = ? WHERE id = ?'),
      lastSeen: db.prepare('UPDATE sites SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)'),
    };
  }

  /**
   * A decoded, authorised message from `siteId`. Committed and acked within commitIntervalMs.
   * `raw`: its JSON as received, stored as is; UTF-8 bytes (ingest/check.ts storedForm) or text.
   * A status or event may come as its head only (decodeUpHead), and then always with `raw`.
   */
  accept(siteId: string, message: UpMessage, raw?: string | Buffer): void;
  accept(siteId: string, message: UpMessage | QueuedHead, raw: string | Buffer): void;
  accept(siteId: string, message: UpMessage | QueuedHead, raw?: string | Buffer): void {
    if (this.closed) {
      this.log.warn({ site: siteId, type: message.type }, `message from site ${siteId} arrived while the hub is stopping; not stored (the agent will resend it)`);
      return;
    }
    this.pending.push(
      message.type === 'birth'
        ? { kind: 'birth', siteId, message, raw: raw === undefined || typeof raw === 'string' ? raw : raw.toString('utf8') }
        : message.type === 'death'
          ? { kind: 'death', siteId, message }
          : { kind: 'row', siteId, type: message.type, stream: message.stream, seq: message.seq, ts: canonicalTime(message.ts), json: raw ?? JSON.stringify(message) },
    );
    if (this.pending.length === 1) this.pendingSince = performance.now();
    if (this.pending.length >= this.maxBatch) this.flushSoon(true);
    else this.flushSoon(false);
  }

  /** A message the hub will never accept: ack its seq as rejected so the agent drops it. */
  reject(siteId: string, stream: string, seq: number, reason: string): void {
    if (this.closed) return;
    this.rejections.push({ siteId, stream, seq, reason });
    this.flushSoon(false);
  }

  /** Commits what is pending and resolves when its acks were handed to the transport. */
  async flush(): Promise<void> {
    // On PostgreSQL a commit in flight defers the next, so what it left pending is committed after it.
    do {
      this.clearTimer();
      this.commitAndAck();
      while (this.syncing) await this.syncing;
    } while (this.pg && (this.pending.length > 0 || this.rejections.length > 0));
    await Promise.allSettled([...this.inFlight]);
  }

  /** Stops accepting, commits the last batch and waits for its acks. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.walSync?.close();
    await this.checkpointer?.close();
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  private flushSoon(now: boolean): void {
    if (now) {
      this.clearTimer();
      this.commitAndAck();
      return;
    }
    if (this.timer) return;
    this.timer = this.opts.commitIntervalMs > 0 ? setTimeout(this.onTimer, this.opts.commitIntervalMs) : setImmediate(this.onTimer);
  }

  private readonly onTimer = () => {
    this.timer = null;
    // startSync commits what is pending when the running sync ends.
    if (this.syncing) return;
    this.commitAndAck();
  };

  /**
   * After a sync: what arrived meanwhile is committed once its oldest message has waited
   * commitIntervalMs, as at any other time, or at once when maxBatch are pending. Under load the
   * wait lets a batch grow: a commit writes about one page per site per index whatever the batch
   * holds, so more messages per site make each message's share of those pages smaller.
   */
  private commitWhenDue(): void {
    if (this.pending.length === 0 && this.rejections.length === 0) return;
    const wait = this.pending.length === 0 ? 0 : this.opts.commitIntervalMs - (performance.now() - this.pendingSince);
    this.clearTimer();
    if (wait <= 0 || this.pending.length >= this.maxBatch) this.commitAndAck();
    else this.timer = setTimeout(this.onTimer, wait);
  }

  private clearTimer(): void {
    if (!this.timer) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = null;
  }

  private commitAndAck(): void {
    if (this.pg) {
      // One PostgreSQL commit at a time: the running one commits what waits when it ends (commitWhenDue).
      if (this.syncing || (this.pending.length === 0 && this.rejections.length === 0)) return;
      const batch = this.pending;
      const rejections = this.rejections;
      this.pending = [];
      this.rejections = [];
      this.syncing = this.commitPg(this.pg, batch, rejections).finally(() => {
        this.syncing = null;
        this.commitWhenDue();
      });
      return;
    }
    const batch = this.pending;
    const rejections = this.rejections;
    this.pending = [];
    this.rejections = [];
    let groups = new Map<string, AckGroup>();
    const group = (siteId: string, stream: string): AckGroup => {
      const key = `${siteId}\u0000${stream}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { siteId, stream, seqs: [], rejected: [] }));
      return g;
    };

    if (batch.length > 0) {
      const started = process.hrtime.bigint();
      this.countReceived(batch);
      try {
        const tx = () => this.opts.db!.transaction(() => this.apply(batch)).immediate();
        groups = this.walSync ? this.walSync.commitWithoutSync(tx) : tx();
        this.checkpointer?.afterCommit();
        this.opts.metrics.batchSize.observe(batch.length);
        this.opts.metrics.commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      } catch (err) {
        // Nothing is acked, so every agent keeps its messages and sends them again: no loss.
        this.opts.metrics.commitFailures.inc();
        this.hours?.forget();
        this.log.error({ err, messages: batch.length }, `could not store a batch of ${batch.length} messages (${(err as Error).message}); nothing acked, the agents will resend`);
        groups.clear();
      }
    }
    for (const r of rejections) group(r.siteId, r.stream).rejected.push({ seq: r.seq, reason: r.reason });

    if (this.walSync && batch.length > 0) {
      for (const [key, g] of groups) {
        const w = this.awaitingSync.get(key);
        if (!w) this.awaitingSync.set(key, g);
        else {
          w.seqs.push(...g.seqs);
          w.rejected.push(...g.rejected);
        }
      }
      this.startSync();
    } else this.publishAcks(groups);
  }

  /** A batch stored in PostgreSQL, then its acks (none if the commit failed: the agents resend). */
  private async commitPg(pg: NonNullable<Ingest['pg']>, batch: Pending[], rejections: Ingest['rejections']): Promise<void> {
    let groups = new Map<string, AckGroup>();
    if (batch.length > 0) {
      const started = process.hrtime.bigint();
      this.countReceived(batch);
      try {
        const { groups: written, marks } = await pg.sql.transaction((tx) => writeBatch(tx, batch, this.now(), this.clockAheadMs, pg.hours, pg.events));
        pg.hours.committed(marks);
        groups = written;
        this.opts.metrics.batchSize.observe(batch.length);
        this.opts.metrics.commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      } catch (err) {
        this.opts.metrics.commitFailures.inc();
        this.log.error({ err, messages: batch.length }, `could not store a batch of ${batch.length} messages (${(err as Error).message}); nothing acked, the agents will resend`);
      }
    }
    for (const r of rejections) {
      const key = `${r.siteId}\u0000${r.stream}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { siteId: r.siteId, stream: r.stream, seqs: [], rejected: [] }));
      g.rejected.push({ seq: r.seq, reason: r.reason });
    }
    this.publishAcks(groups);
  }

  /** What a PostgreSQL batch reports: the same logs and metrics as the SQLite commit. */
  private batchEvents(): BatchEvents {
    return {
      maxSeqJump: this.maxSeqJump,
      futureDated: (p, receivedAt) => this.futureDated(p, receivedAt),
      seqJump: (g, p) => this.seqJump(g, p),
      duplicate: (p) => this.duplicate(p),
      birth: (siteId, m) => this.birthLogged(siteId, m),
      death: (siteId, m, current) => this.deathLogged(siteId, m, current),
    };
  }

  /** One sync at a time; the acks that arrive meanwhile go with the next. */
  private startSync(): void {
    if (this.syncing || this.awaitingSync.size === 0 || !this.walSync) return;
    const round = this.awaitingSync;
    this.awaitingSync = new Map();
    this.syncing = this.walSync
      .sync()
      .then(
        () => this.publishAcks(round),
        (err: Error) => {
          // Committed but not known to be on disk: not acked, so the agents resend and the duplicates are acked then.
          this.opts.metrics.commitFailures.inc();
          const n = [...round.values()].reduce((a, g) => a + g.seqs.length, 0);
          this.log.error({ err, messages: n }, `could not sync the database to disk (${err.message}); ${n} messages not acked, the agents will resend`);
        },
      )
      .finally(() => {
        this.syncing = null;
        this.commitWhenDue();
        this.startSync();
      });
  }

  private publishAcks(groups: Map<string, AckGroup>): void {
    for (const g of groups.values()) {
      const ack: AckMessage = { v: 1, type: 'ack', site: g.siteId, stream: g.stream, acked: toRanges(g.seqs), rejected: g.rejected };
      const p = this.opts
        .publishAck(g.siteId, ack)
        .then(() => {
          this.opts.metrics.acksSent.inc();
        })
        .catch((err: Error) => {
          this.log.warn({ site: g.siteId, stream: g.stream, err: err.message }, `could not send the ack to site ${g.siteId} (${err.message}); it will be sent again when the agent resends`);
        })
        .finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  /** The received counter by type, once per batch rather than once per message. */
  private countReceived(batch: Pending[]): void {
    let status = 0;
    let event = 0;
    for (const p of batch) {
      const type = p.kind === 'row' ? p.type : p.kind;
      if (type === 'status') status++;
      else if (type === 'event') event++;
      else this.opts.metrics.received.inc({ type });
    }
    if (status > 0) this.opts.metrics.received.inc({ type: 'status' }, status);
    if (event > 0) this.opts.metrics.received.inc({ type: 'event' }, event);
  }

  /**
   * Runs inside the transaction. Returns the seqs to ack, by (site, stream).
   *
   * Per message only the INSERT of its row; what depends on the rows a batch added is written
   * once per batch: the streams row once per (site, stream), the site's latest status once per
   * site, last_seen once per site. The result is the same as applying the messages one by one.
   */
  private apply(batch: Pending[]): Map<string, StreamGroup> {
    const now = this.now();
    const receivedAt = now.toISOString();
    const latestTs = new Date(now.getTime() + this.clockAheadMs).toISOString();
    const seen = new Set<string>();
    const streams = new Map<string, StreamGroup>();
    const statuses = new Map<string, StatusRow[]>();
    const lastGroup = new Map<string, StreamGroup>();
    for (const p of batch) {
      const siteId = p.siteId;
      seen.add(siteId);
      if (p.kind === 'birth') {
        this.applyBirth(siteId, p.message, p.raw, receivedAt);
        continue;
      }
      if (p.kind === 'death') {
        this.applyDeath(siteId, p.message, receivedAt);
        continue;
      }
      if (p.ts > latestTs) this.futureDated(p, receivedAt);
      const inserted = this.insertQueued(p, receivedAt);
      // A site's messages nearly always share one stream: its last group is found without building the key.
      let g = lastGroup.get(siteId);
      if (g === undefined || g.stream !== p.stream) {
        const key = `${siteId}\u0000${p.stream}`;
        g = streams.get(key);
        if (!g) streams.set(key, (g = { siteId, stream: p.stream, seqs: [], rejected: [], count: 0, maxSeq: (this.st.streamMax.get(siteId, p.stream) as number | undefined) ?? 0, jumped: 0 }));
        lastGroup.set(siteId, g);
      }
      g.seqs.push(p.seq);
      if (!inserted) continue;
      this.hours!.note(siteId, p.stream, p.ts, p.seq);
      g.count++;
      if (p.seq - g.maxSeq > this.maxSeqJump) this.seqJump(g, p);
      if (p.seq > g.maxSeq) g.maxSeq = p.seq;
      if (p.type === 'status') {
        const list = statuses.get(siteId);
        if (list) list.push(p);
        else statuses.set(siteId, [p]);
      }
    }
    for (const a of streams.values()) if (a.count > 0) this.st.stream.run(a.siteId, a.stream, a.maxSeq, a.count, receivedAt, receivedAt, a.jumped);
    for (const [siteId, rows] of statuses) this.applyLatestStatus(siteId, rows);
    for (const siteId of seen) this.st.lastSeen.run(receivedAt, siteId, receivedAt);
    return streams;
  }

  /** The site's latest status: the rule of the lastStatus statement, applied to the batch's statuses in order. */
  private applyLatestStatus(siteId: string, rows: StatusRow[]): void {
    if (rows.length === 1) {
      const r = rows[0]!;
      this.st.lastStatus.run({ json: r.json, ts: r.ts, stream: r.stream, seq: r.seq, site: siteId });
      return;
    }
    const stored = this.st.lastStatusOf.get(siteId) as { ts: string | null; stream: string | null; seq: number | null } | undefined;
    if (!stored) return; // no such site: the single-row UPDATE would not have matched either
    const winner = latestStatus(stored, rows);
    if (winner) this.st.setLastStatus.run(winner.json, winner.ts, winner.stream, winner.seq, siteId);
  }

  private applyBirth(siteId: string, m: BirthMessage, raw: string | undefined, at: string): void {
    this.st.birth.run(m.bdSeq, m.agent.version, raw ?? JSON.stringify(m), at, siteId);
    this.st.connection.run(siteId, m.bdSeq, 'birth', null, at);
    this.birthLogged(siteId, m);
  }

  private birthLogged(siteId: string, m: BirthMessage): void {
    this.log.info({ site: siteId, bdSeq: m.bdSeq, agentVersion: m.agent.version }, `site ${siteId} connected (agent ${m.agent.version}, bdSeq ${m.bdSeq})`);
  }

  /** A death: logged as stale (another connection is current) or as the site going offline. */
  private deathLogged(siteId: string, m: DeathMessage, current: number | null | undefined): void {
    if (current !== m.bdSeq) {
      // A late will of an older connection: the site has reconnected since, it is not offline.
      this.log.info({ site: siteId, bdSeq: m.bdSeq, currentBdSeq: current }, `ignored a stale death of site ${siteId} (bdSeq ${m.bdSeq}, current connection is bdSeq ${current})`);
    } else this.log.info({ site: siteId, bdSeq: m.bdSeq, clean: m.clean }, `site ${siteId} disconnected (${m.clean ? 'clean goodbye' : 'connection lost'}, bdSeq ${m.bdSeq})`);
  }

  private applyDeath(siteId: string, m: DeathMessage, at: string): void {
    const current = this.st.siteBdSeq.get(siteId) as number | null | undefined;
    this.deathLogged(siteId, m, current);
    if (current !== m.bdSeq) return;
    this.st.death.run(siteId);
    this.st.connection.run(siteId, m.bdSeq, 'death', m.clean ? 1 : 0, at);
  }

  /**
   * A seq more than maxSeqJump ahead of its stream's highest: no agent skips that many (its outbox
   * numbers every message, and thinned ones are reported), so its counter was reset or damaged, or
   * the site is lying. The message is stored; the seqs it skips are counted as jumped, not missing.
   */
  private seqJump(g: StreamGroup, p: PendingRow): void {
    const skipped = p.seq - g.maxSeq - 1;
    g.jumped += skipped;
    this.opts.metrics.seqJumps.inc();
    const text = `site ${p.siteId} stream ${p.stream} jumped from seq ${g.maxSeq} to ${p.seq}, more than mqtt.maxSeqJump (${this.maxSeqJump}) ahead: stored, and the ${skipped} seqs between are counted as jumped, not missing`;
    const fields = { site: p.siteId, stream: p.stream, from: g.maxSeq, seq: p.seq, jumped: skipped };
    if (this.opts.notice) this.opts.notice(`site ${p.siteId}`, fields, text);
    else this.log.warn(fields, text);
  }

  /**
   * A message dated more than mqtt.maxClockAheadSeconds after it arrived: a site clock ahead (a dead clock
   * battery after a power cut, or a forged date). Stored, its payload as sent, but with its arrival time as its time: a
   * status dated 2099 would otherwise stay the site's latest status for good, and an event dated
   * 2099 the first of its events. Times before arrival are kept as sent (a backlog is old).
   */
  private futureDated(p: PendingRow, receivedAt: string): void {
    this.opts.metrics.futureDated.inc();
    const text = `site ${p.siteId} sent a ${p.type} dated ${p.ts}, after it arrived (${receivedAt}): its clock is ahead; stored with the arrival time`;
    const fields = { site: p.siteId, stream: p.stream, seq: p.seq, ts: p.ts, receivedAt };
    if (this.opts.notice) this.opts.notice(`site ${p.siteId}`, fields, text);
    else this.log.warn(fields, text);
    p.ts = receivedAt;
  }

  /** Inserts the row; false for a duplicate. */
  private insertQueued(p: PendingRow, at: string): boolean {
    if (this.st.insertMessage.run(p.siteId, p.stream, p.seq, p.type, p.ts, at, p.json).changes > 0) return true;
    this.duplicate(p);
    return false;
  }

  private duplicate(p: PendingRow): void {
    this.opts.metrics.duplicates.inc();
    this.log.debug({ site: p.siteId, stream: p.stream, seq: p.seq }, 'duplicate message, acked again');
  }
}
