/**
 * The durable outbox: every status sample and event is committed here before anything is sent,
 * and leaves only when the hub acknowledges it at application level (never on MQTT PUBACK:
 * mqtt.js keeps QoS 1 publishes in memory only). Stored payloads are the exact bytes sent.
 */
import type Database from 'better-sqlite3';
import { openDurableSqlite } from '../durable-sqlite.js';
import {
  encodeUp,
  PROTOCOL_VERSION,
  randomToken,
  type EventMessage,
  type Logger,
  type BirthMessage,
  type QueuedMessage,
  type Severity,
} from '@sentinela/shared';
import { migrate } from './schema.js';
import { EVENT_PRIORITY, priorityOf } from './priority.js';
import { chooseDrops, type TimedRow } from './thinning.js';
import {
  addDrops,
  describeDrops,
  droppedCount,
  openSummary,
  parseSummary,
  summaryContent,
  summarySeverity,
  type DroppedRow,
  type ThinSummary,
} from './summary.js';

export type QueuedKind = QueuedMessage['type'];
/** The outbox section of birth and status messages (the shared schema's type). */
export type OutboxStats = BirthMessage['outbox'];

export interface OutboxOptions {
  /** Path of the SQLite file, normally <dataDir>/outbox.db. */
  path: string;
  /** Needed to build the outbox's own events (outbox.thinned); may be null for read-only use. */
  siteId?: string | null;
  /** Limit on pending payload bytes; beyond it rows are dropped (and counted) in the order of chooseDrops. */
  maxBytes?: number;
  /** A row sent this long ago without an ack is sent again. */
  resendAfterSeconds?: number;
  logger?: Logger;
  /** For tools that only read (status): do not create a missing database. */
  fileMustExist?: boolean;
}

export interface OutboxRow {
  seq: number;
  kind: QueuedKind;
  priority: number;
  ts: string;
  bytes: number;
  attempts: number;
  payload: Buffer;
}

/** One pass of the size limit. */
export interface ThinningResult {
  /** Rows this pass dropped, and their lowest and highest seq. */
  dropped: number;
  fromSeq: number;
  toSeq: number;
  /** The outbox.thinned event that counts them (the same row for every pass until it is sent). */
  eventSeq: number;
}

export interface AppendResult {
  seq: number;
  bytes: number;
  thinned: ThinningResult | null;
}

/** After thinning, pending bytes are brought down to this share of maxBytes, so passes are rare, not one per append. */
const LOW_WATER = 0.9;
/** Status samples keep at least this share of maxBytes while there are info or warning events to drop instead. */
const STATUS_FLOOR_SHARE = 0.25;
/** Room made for a new summary row (its payload is about 700 bytes). */
const SUMMARY_RESERVE = 1024;
const MAX_ROUNDS = 3;
/** Birth/death numbers reserved per write (at one connection attempt a second, a write every ~3 hours). */
const BD_SEQ_BLOCK = 10_000;
/** Bounds of the WAL's checkpoint interval, in pages (1,000 is SQLite's default). */
const WAL_MIN_PAGES = 16;
const WAL_MAX_PAGES = 1000;
const THIN_LOG_INTERVAL_MS = 10 * 60_000;
const OVER_LIMIT_WARN_INTERVAL_MS = 60_000;
const THINNED_CODE = 'outbox.thinned';
/** Meta key of the open summary (JSON of ThinSummary). */
const SUMMARY_META = 'thinSummary';
const SQL_CHUNK = 500;

export class Outbox {
  readonly path: string;
  readonly stream: string;
  readonly maxBytes: number;
  readonly resendAfterMs: number;
  private readonly db: Database.Database;
  private readonly siteId: string | null;
  private readonly logger: Logger | undefined;
  private readonly listeners = new Set<(seq: number, kind: QueuedKind) => void>();
  private lastOverLimitWarn = 0;
  private lastThinLog = 0;
  /** Birth/death numbers reserved on disk and not handed out yet (none until the first nextBdSeq). */
  private bdSeq = { next: 0, ceiling: -1 };
  private readonly stmt;

  private constructor(opts: OutboxOptions) {
    this.path = opts.path;
    this.siteId = opts.siteId ?? null;
    this.maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    this.resendAfterMs = (opts.resendAfterSeconds ?? 60) * 1000;
    this.logger = opts.logger;
    this.db = openDurableSqlite(opts.path, { fileMustExist: opts.fileMustExist ?? false });
    try {
      this.boundWal();
      migrate(this.db, opts.path);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.stmt = {
      getMeta: this.db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: this.db.prepare<[string, string]>(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      insert: this.db.prepare<[QueuedKind, string]>(
        "INSERT INTO outbox (kind, priority, ts, bytes, payload) VALUES (?, 0, ?, 0, x'')",
      ),
      fill: this.db.prepare<[number, number, Buffer, number]>('UPDATE outbox SET priority = ?, bytes = ?, payload = ? WHERE seq = ?'),
      next: this.db.prepare<[number, number], Omit<OutboxRow, 'payload'> & { payload: Buffer }>(
        `SELECT seq, kind, priority, ts, bytes, attempts, payload FROM outbox
         WHERE sent_at IS NULL OR sent_at <= ? ORDER BY priority DESC, seq ASC LIMIT ?`,
      ),
      markSent: this.db.prepare<[number, number]>('UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE seq = ?'),
      delete: this.db.prepare<[number]>('DELETE FROM outbox WHERE seq = ?'),
      deleteRange: this.db.prepare<[number, number]>('DELETE FROM outbox WHERE seq BETWEEN ? AND ?'),
      resetInflight: this.db.prepare('UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL'),
      stats: this.db.prepare<[], { pending: number; pendingBytes: number; oldestTs: string | null }>(
        'SELECT count(*) AS pending, coalesce(sum(bytes), 0) AS pendingBytes, min(ts) AS oldestTs FROM outbox',
      ),
      pendingBytes: this.db.prepare<[], { b: number }>('SELECT coalesce(sum(bytes), 0) AS b FROM outbox'),
      statusRows: this.db.prepare<[], TimedRow>("SELECT seq, bytes, ts FROM outbox WHERE kind = 'status' ORDER BY seq"),
      eventRows: this.db.prepare<[number, number], TimedRow>(
        "SELECT seq, bytes, ts FROM outbox WHERE priority = ? AND kind = 'event' AND seq <> ? ORDER BY seq",
      ),
      attempts: this.db.prepare<[number], { attempts: number }>('SELECT attempts FROM outbox WHERE seq = ?'),
    };
    // The stream id is made once with the database: a reinstalled agent gets a new one, so
    // its seqs starting again at 1 are never mistaken for duplicates at the hub.
    const existing = this.getMeta('stream');
    if (existing) this.stream = existing;
    else {
      this.stream = randomToken(16);
      this.db.transaction(() => {
        this.setMeta('stream', this.stream);
        this.setMeta('createdAt', new Date().toISOString());
        this.setMeta('thinned', '0');
      })();
    }
  }

  /**
   * The WAL follows maxBytes: SQLite checkpoints after 1,000 pages by default and never shrinks the
   * file, so it stayed at about 4 MB whatever the budget. A quarter of maxBytes (16 to 1,000 pages)
   * between checkpoints, and the file cut back to that size after each, keep the disk use near
   * the budget; at the default 256 MiB nothing changes.
   */
  private boundWal(): void {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = Math.min(WAL_MAX_PAGES, Math.max(WAL_MIN_PAGES, Math.floor(this.maxBytes / 4 / pageSize)));
    this.db.pragma(`wal_autocheckpoint = ${pages}`);
    this.db.pragma(`journal_size_limit = ${pages * pageSize}`);
  }

  static open(opts: OutboxOptions): Outbox {
    return new Outbox(opts);
  }

  getMeta(key: string): string | null {
    return this.stmt.getMeta.get(key)?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.stmt.setMeta.run(key, value);
  }

  /**
   * A new birth/death sequence number, one per connection attempt. Numbers come from a block
   * reserved on disk (one write per BD_SEQ_BLOCK attempts, and one per start), not one write per
   * attempt: during an outage the link tries every few seconds, for days. After a power cut the
   * next start reserves above the last block, so its numbers are newer than any earlier attempt's,
   * connected or not: a late will from before the cut can never match a new birth.
   */
  nextBdSeq(): number {
    if (this.bdSeq.next > this.bdSeq.ceiling) {
      // 'bdSeq' holds the highest number this outbox may have handed out (older agents: the last one used).
      const next = Number(this.getMeta('bdSeq') ?? '-1') + 1;
      const ceiling = next + BD_SEQ_BLOCK - 1;
      this.setMeta('bdSeq', String(ceiling));
      this.bdSeq = { next, ceiling };
    }
    return this.bdSeq.next++;
  }

  /** Called after each committed append, so the link can send live messages at once. */
  onAppend(listener: (seq: number, kind: QueuedKind) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Commits one message. `build` receives the seq, stream and time the row was given and returns
   * the message, which is validated and encoded here: what is stored is exactly what is sent.
   */
  append<K extends QueuedKind>(
    kind: K,
    build: (seq: number, stream: string, ts: string) => Extract<QueuedMessage, { type: K }>,
  ): AppendResult {
    const result = this.db.transaction((): AppendResult => {
      const r = this.insertRow(kind, build);
      const thinned = this.enforceLimit();
      return { ...r, thinned };
    })();
    this.notify(result.seq, kind);
    if (result.thinned) this.notify(result.thinned.eventSeq, 'event');
    return result;
  }

  /** Records an event (the common case of append). */
  appendEvent(code: string, severity: Severity, message: string, data?: Record<string, unknown>): AppendResult {
    return this.append('event', (seq, stream, ts) => this.eventMessage(seq, stream, ts, code, severity, message, data));
  }

  /** Rows to send now: highest priority first, then oldest; rows sent less than resendAfterSeconds ago are skipped. */
  nextToSend(limit: number, now = Date.now()): OutboxRow[] {
    if (limit <= 0) return [];
    return this.stmt.next.all(now - this.resendAfterMs, limit);
  }

  markSent(seqs: readonly number[], now = Date.now()): void {
    this.db.transaction(() => {
      for (const s of seqs) this.stmt.markSent.run(now, s);
    })();
  }

  /** Deletes acknowledged rows; returns how many existed. */
  ack(seqs: Iterable<number>): number {
    return this.db.transaction(() => {
      let n = 0;
      for (const s of seqs) n += this.stmt.delete.run(s).changes;
      if (n > 0) this.setMeta('lastAckAt', new Date().toISOString());
      return n;
    })();
  }

  /** Same as ack, for the [from, to] ranges the hub sends (no expansion of large ranges in memory). */
  ackRanges(ranges: ReadonlyArray<readonly [number, number]>): number {
    return this.db.transaction(() => {
      let n = 0;
      for (const [from, to] of ranges) n += this.stmt.deleteRange.run(from, to).changes;
      if (n > 0) this.setMeta('lastAckAt', new Date().toISOString());
      return n;
    })();
  }

  /** The hub will never accept this row: drop it, and say so in the log. */
  reject(seq: number, reason: string): boolean {
    const gone = this.stmt.delete.run(seq).changes > 0;
    if (gone) this.logger?.warn({ seq, reason, stream: this.stream }, `hub rejected message ${seq}: ${reason}; dropped it from the outbox`);
    return gone;
  }

  /** After a reconnect nothing is in flight any more: everything unacked is sent again. */
  resetInflight(): number {
    return this.stmt.resetInflight.run().changes;
  }

  stats(): OutboxStats {
    const row = this.stmt.stats.get()!;
    return {
      pending: row.pending,
      pendingBytes: row.pendingBytes,
      oldestTs: row.oldestTs,
      thinned: Number(this.getMeta('thinned') ?? '0'),
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private notify(seq: number, kind: QueuedKind): void {
    for (const l of this.listeners) {
      try {
        l(seq, kind);
      } catch (err) {
        this.logger?.error({ err }, 'outbox listener failed');
      }
    }
  }

  private insertRow<K extends QueuedKind>(
    kind: K,
    build: (seq: number, stream: string, ts: string) => Extract<QueuedMessage, { type: K }>,
  ): { seq: number; bytes: number } {
    const ts = new Date().toISOString();
    // The row is inserted first so that SQLite assigns the seq the message must carry.
    const seq = Number(this.stmt.insert.run(kind, ts).lastInsertRowid);
    const message = build(seq, this.stream, ts);
    if (message.type !== kind || message.seq !== seq || message.stream !== this.stream) {
      throw new Error(`outbox: built message does not match its row (type ${message.type}, seq ${message.seq}, expected ${kind} ${seq})`);
    }
    const payload = encodeUp(message);
    this.stmt.fill.run(priorityOf(message), payload.byteLength, payload, seq);
    if (kind === 'status') this.setMeta('lastStatusTs', ts);
    return { seq, bytes: payload.byteLength };
  }

  /**
   * Keeps pending bytes under maxBytes for any mix of rows: drops in the order of chooseDrops (status
   * samples thinned, then info, warning, critical events), down to LOW_WATER so that passes are rare.
   * Every drop is counted in the one open outbox.thinned summary, which is the only row kept back.
   */
  private enforceLimit(): ThinningResult | null {
    let total = this.stmt.pendingBytes.get()!.b;
    if (total <= this.maxBytes) return null;
    const target = Math.floor(this.maxBytes * LOW_WATER);
    let summary = this.openSummary();
    const opened = summary === null;
    const dropped: DroppedRow[] = [];
    // One round as a rule; another only when the summary's own growth kept the total over the limit.
    for (let round = 0; total > this.maxBytes && round < MAX_ROUNDS; round++) {
      const rows = this.chooseDrops(total - target + (summary ? 0 : SUMMARY_RESERVE), summary?.seq ?? 0);
      if (rows.length === 0) break;
      const seqs = rows.map((r) => r.seq);
      for (let i = 0; i < seqs.length; i += SQL_CHUNK) {
        const chunk = seqs.slice(i, i + SQL_CHUNK);
        this.db.prepare(`DELETE FROM outbox WHERE seq IN (${chunk.map(() => '?').join(',')})`).run(...chunk);
      }
      this.setMeta('thinned', String(Number(this.getMeta('thinned') ?? '0') + rows.length));
      summary = this.writeSummary(summary, rows, round === 0);
      dropped.push(...rows);
      total = this.stmt.pendingBytes.get()!.b;
    }
    if (total > this.maxBytes && Date.now() - this.lastOverLimitWarn > OVER_LIMIT_WARN_INTERVAL_MS) {
      this.lastOverLimitWarn = Date.now();
      this.logger?.warn(
        { pendingBytes: total, maxBytes: this.maxBytes },
        `the outbox holds ${total} bytes, over its limit of ${this.maxBytes}, with nothing left to drop but its thinning record; raise outbox.maxBytes`,
      );
    }
    if (!summary || dropped.length === 0) return null;
    this.logThinning(summary, opened);
    // A reduce, not Math.min(...seqs): a pass can drop more rows than a call takes arguments.
    const fromSeq = dropped.reduce((m, r) => Math.min(m, r.seq), Infinity);
    const toSeq = dropped.reduce((m, r) => Math.max(m, r.seq), -Infinity);
    return { dropped: dropped.length, fromSeq, toSeq, eventSeq: summary.seq };
  }

  private chooseDrops(bytesToFree: number, keepSeq: number): DroppedRow[] {
    return chooseDrops(
      {
        statuses: this.stmt.statusRows.all(),
        events: (severity) => this.stmt.eventRows.iterate(EVENT_PRIORITY[severity], keepSeq),
      },
      bytesToFree,
      Math.floor(this.maxBytes * STATUS_FLOOR_SHARE),
    );
  }

  /** The summary still being added to: its row exists and was never sent (once sent, the hub may hold that version). */
  private openSummary(): ThinSummary | null {
    const s = parseSummary(this.getMeta(SUMMARY_META));
    if (!s) return null;
    const row = this.stmt.attempts.get(s.seq);
    return row && row.attempts === 0 ? s : null;
  }

  /** Starts the summary row, or rewrites the open one in place (same seq and ts). */
  private writeSummary(open: ThinSummary | null, rows: readonly DroppedRow[], newPass: boolean): ThinSummary {
    const streamTotal = Number(this.getMeta('thinned') ?? '0');
    const build = (s: ThinSummary, seq: number, stream: string, ts: string): EventMessage => {
      const { message, data } = summaryContent(s, this.maxBytes, streamTotal);
      return this.eventMessage(seq, stream, ts, THINNED_CODE, summarySeverity(s), message, data);
    };
    let summary: ThinSummary;
    if (open) {
      summary = addDrops(open, rows, newPass);
      const message = build(summary, summary.seq, this.stream, summary.openedAt);
      const payload = encodeUp(message);
      this.stmt.fill.run(priorityOf(message), payload.byteLength, payload, summary.seq);
    } else {
      let made: ThinSummary | null = null;
      this.insertRow('event', (seq, stream, ts) => {
        made = openSummary(seq, ts, rows);
        return build(made, seq, stream, ts);
      });
      summary = made!;
    }
    this.setMeta(SUMMARY_META, JSON.stringify(summary));
    return summary;
  }

  /** A line when a summary opens, then at most one per THIN_LOG_INTERVAL_MS with its running totals. */
  private logThinning(s: ThinSummary, opened: boolean): void {
    const now = Date.now();
    if (!opened && now - this.lastThinLog < THIN_LOG_INTERVAL_MS) return;
    this.lastThinLog = now;
    const n = droppedCount(s);
    this.logger?.warn(
      { dropped: s.dropped, fromSeq: s.fromSeq, toSeq: s.toSeq, passes: s.passes, since: s.openedAt, maxBytes: this.maxBytes, eventSeq: s.seq },
      `the outbox is at its limit of ${this.maxBytes} bytes while the hub is out of reach: dropped ${n} messages since ${s.openedAt} ` +
        `(${describeDrops(s.dropped)}; seq ${s.fromSeq} to ${s.toSeq}); the hub gets the count in an outbox.thinned event; ` +
        `next report in ${THIN_LOG_INTERVAL_MS / 60_000} minutes at most`,
    );
  }

  private eventMessage(
    seq: number,
    stream: string,
    ts: string,
    code: string,
    severity: Severity,
    message: string,
    data?: Record<string, unknown>,
  ): EventMessage {
    if (!this.siteId) throw new Error('outbox: opened without a site id, cannot record events');
    return {
      v: PROTOCOL_VERSION,
      site: this.siteId,
      stream,
      seq,
      ts,
      type: 'event',
      code,
      severity,
      message,
      ...(data ? { data } : {}),
    };
  }
}
