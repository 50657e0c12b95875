/**
 * One ingest batch committed to PostgreSQL: the same rows and the same result as the SQLite
 * commit (Ingest.apply), in a few set statements per batch instead of one per message, since each
 * statement is a round trip.
 *
 * Several hub instances commit at once (MQTT shared subscriptions spread one site's messages over
 * them), so: dedup is the messages_key unique index (INSERT … ON CONFLICT DO NOTHING RETURNING
 * tells which rows are new, whichever instance stored the other copy); the batch first locks its
 * sites' rows in id order (SELECT … FOR UPDATE), so two batches that share sites commit one after
 * the other instead of deadlocking, and the stored seqs and statuses it reads stay true until its
 * commit; the streams counters are added, never overwritten.
 */
import type { BirthMessage, DeathMessage } from '@sentinela/shared';
import type { Sql } from '../store/sql.js';
import { latestStatus, type Pending, type PendingRow, type StatusRow, type StreamGroup } from './batch.js';

/** What the batch tells its Ingest (logs, metrics), as the SQLite commit does. */
export interface BatchEvents {
  maxSeqJump: number;
  futureDated(p: PendingRow, receivedAt: string): void;
  seqJump(g: StreamGroup, p: PendingRow): void;
  duplicate(p: PendingRow): void;
  birth(siteId: string, m: BirthMessage): void;
  death(siteId: string, m: DeathMessage, current: number | null | undefined): void;
}

interface Mark {
  hour: string;
  seq: number;
}

/** Hour marks (store/message-hours.ts) known to be committed: a batch writes only the marks they do not cover. */
export class PgHourMarks {
  private known = new Map<string, Mark>();

  /** The marks this batch must write: the lowest new seq per (site, hour, stream) not already covered. */
  needed(rows: readonly PendingRow[]): Array<{ siteId: string; hour: string; stream: string; seq: number }> {
    const lowest = new Map<string, { siteId: string; hour: string; stream: string; seq: number }>();
    for (const p of rows) {
      const hour = p.ts.slice(0, 13);
      const k = `${p.siteId}\u0000${p.stream}`;
      const m = this.known.get(k);
      if (m !== undefined && m.hour === hour && p.seq >= m.seq) continue;
      const key = `${k}\u0000${hour}`;
      const cur = lowest.get(key);
      if (!cur || p.seq < cur.seq) lowest.set(key, { siteId: p.siteId, hour, stream: p.stream, seq: p.seq });
    }
    return [...lowest.values()];
  }

  /** After the commit: the latest hour written per (site, stream) is known. */
  committed(marks: ReadonlyArray<{ siteId: string; hour: string; stream: string; seq: number }>): void {
    for (const m of marks) {
      const k = `${m.siteId}\u0000${m.stream}`;
      const cur = this.known.get(k);
      if (!cur || m.hour > cur.hour) this.known.set(k, { hour: m.hour, seq: m.seq });
      else if (m.hour === cur.hour) cur.seq = Math.min(cur.seq, m.seq);
    }
  }
}

const text = (json: string | Buffer): string => (typeof json === 'string' ? json : json.toString('utf8'));
const keyOf = (siteId: string, stream: string, seq: number): string => `${siteId}\u0000${stream}\u0000${seq}`;
const byKey = (a: PendingRow, b: PendingRow): number =>
  a.siteId < b.siteId ? -1 : a.siteId > b.siteId ? 1 : a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : a.seq - b.seq;

interface LockedSite {
  id: string;
  bd_seq: number | null;
  ts: string | null;
  stream: string | null;
  seq: number | null;
}

/**
 * Writes `batch` inside `tx` (a transaction); returns the seqs to ack by (site, stream), and the
 * hour marks written (for PgHourMarks.committed once the transaction committed).
 */
export async function writeBatch(
  tx: Sql,
  batch: readonly Pending[],
  now: Date,
  /** mqtt.maxClockAheadSeconds in ms: a later time is replaced by the arrival time. */
  clockAheadMs: number,
  hours: PgHourMarks,
  ev: BatchEvents,
): Promise<{ groups: Map<string, StreamGroup>; marks: ReturnType<PgHourMarks['needed']> }> {
  const receivedAt = now.toISOString();
  const latestTs = new Date(now.getTime() + clockAheadMs).toISOString();
  const siteIds = [...new Set(batch.map((p) => p.siteId))].sort();
  const locked = await tx.query<LockedSite>(
    'SELECT id, bd_seq, last_status_at AS ts, last_status_stream AS stream, last_status_seq AS seq FROM sites WHERE id = ANY(?::text[]) ORDER BY id FOR UPDATE',
    [siteIds],
  );
  const sites = new Map(locked.map((s) => [s.id, s]));

  // Connections, in the batch's order (a birth then a death of the same connection).
  for (const p of batch) {
    if (p.kind === 'birth') {
      const m = p.message;
      await tx.run('UPDATE sites SET connected = 1, bd_seq = ?, agent_version = ?, birth_json = ?, birth_at = ? WHERE id = ?', [m.bdSeq, m.agent.version, p.raw ?? JSON.stringify(m), receivedAt, p.siteId]);
      await tx.run('INSERT INTO connections (site_id, bd_seq, kind, clean, at) VALUES (?, ?, ?, ?, ?)', [p.siteId, m.bdSeq, 'birth', null, receivedAt]);
      const s = sites.get(p.siteId);
      if (s) s.bd_seq = m.bdSeq;
      ev.birth(p.siteId, m);
    } else if (p.kind === 'death') {
      const current = sites.get(p.siteId)?.bd_seq;
      ev.death(p.siteId, p.message, current);
      if (current !== p.message.bdSeq) continue;
      await tx.run('UPDATE sites SET connected = 0 WHERE id = ?', [p.siteId]);
      await tx.run('INSERT INTO connections (site_id, bd_seq, kind, clean, at) VALUES (?, ?, ?, ?, ?)', [p.siteId, p.message.bdSeq, 'death', p.message.clean ? 1 : 0, receivedAt]);
    }
  }

  const rows = batch.filter((p): p is PendingRow => p.kind === 'row');
  for (const p of rows) if (p.ts > latestTs) ev.futureDated(p, receivedAt);
  const inserted = new Set<string>();
  if (rows.length > 0) {
    // In key order, so that two instances inserting the same keys wait for each other in one order.
    const sorted = [...rows].sort(byKey);
    const news = await tx.query<{ site_id: string; stream: string; seq: number }>(
      `INSERT INTO messages (site_id, stream, seq, type, ts, received_at, payload)
         SELECT s, st, q, ty, ts, ?, pl FROM unnest(?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[]) AS u(s, st, q, ty, ts, pl)
       ON CONFLICT (site_id, stream, seq) DO NOTHING RETURNING site_id, stream, seq`,
      [receivedAt, sorted.map((p) => p.siteId), sorted.map((p) => p.stream), sorted.map((p) => p.seq), sorted.map((p) => p.type), sorted.map((p) => p.ts), sorted.map((p) => text(p.json))],
    );
    for (const r of news) inserted.add(keyOf(r.site_id, r.stream, r.seq));
  }

  // The streams' stored highest seqs, for the batch's (site, stream) pairs.
  const pairs = new Map<string, { siteId: string; stream: string }>();
  for (const p of rows) pairs.set(`${p.siteId}\u0000${p.stream}`, { siteId: p.siteId, stream: p.stream });
  const stored = new Map<string, number>();
  if (pairs.size > 0) {
    const list = [...pairs.values()];
    const found = await tx.query<{ site_id: string; stream: string; max_seq: number }>(
      'SELECT s.site_id, s.stream, s.max_seq FROM streams s JOIN unnest(?::text[], ?::text[]) AS u(site, st) ON s.site_id = u.site AND s.stream = u.st',
      [list.map((p) => p.siteId), list.map((p) => p.stream)],
    );
    for (const f of found) stored.set(`${f.site_id}\u0000${f.stream}`, f.max_seq);
  }

  const groups = new Map<string, StreamGroup>();
  const statuses = new Map<string, StatusRow[]>();
  const newRows: PendingRow[] = [];
  for (const p of rows) {
    const key = `${p.siteId}\u0000${p.stream}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { siteId: p.siteId, stream: p.stream, seqs: [], rejected: [], count: 0, maxSeq: stored.get(key) ?? 0, jumped: 0 }));
    g.seqs.push(p.seq);
    // The first copy in the batch is the one stored; a second copy is a duplicate like any other.
    if (!inserted.delete(keyOf(p.siteId, p.stream, p.seq))) {
      ev.duplicate(p);
      continue;
    }
    newRows.push(p);
    g.count++;
    if (p.seq - g.maxSeq > ev.maxSeqJump) ev.seqJump(g, p);
    if (p.seq > g.maxSeq) g.maxSeq = p.seq;
    if (p.type === 'status') {
      const list = statuses.get(p.siteId);
      if (list) list.push(p);
      else statuses.set(p.siteId, [p]);
    }
  }

  const counted = [...groups.values()].filter((g) => g.count > 0);
  if (counted.length > 0) {
    await tx.run(
      `INSERT INTO streams (site_id, stream, max_seq, received_count, first_at, last_at, jumped)
         SELECT s, st, m, c, ?, ?, j FROM unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[]) AS u(s, st, m, c, j) ORDER BY s, st
       ON CONFLICT (site_id, stream) DO UPDATE SET
         max_seq = greatest(streams.max_seq, excluded.max_seq), received_count = streams.received_count + excluded.received_count,
         last_at = excluded.last_at, jumped = streams.jumped + excluded.jumped`,
      [receivedAt, receivedAt, counted.map((g) => g.siteId), counted.map((g) => g.stream), counted.map((g) => g.maxSeq), counted.map((g) => g.count), counted.map((g) => g.jumped)],
    );
  }

  const marks = hours.needed(newRows);
  if (marks.length > 0) {
    await tx.run(
      `INSERT INTO message_hours (site_id, hour, stream, first_seq)
         SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[]) ORDER BY 1, 2, 3
       ON CONFLICT (site_id, hour, stream) DO UPDATE SET first_seq = least(message_hours.first_seq, excluded.first_seq)`,
      [marks.map((m) => m.siteId), marks.map((m) => m.hour), marks.map((m) => m.stream), marks.map((m) => m.seq)],
    );
  }

  // Each site's latest status: the stored one (read under the lock) against the batch's, in order.
  const winners: Array<StatusRow & { siteId: string }> = [];
  for (const [siteId, list] of statuses) {
    const s = sites.get(siteId);
    if (!s) continue; // no such site: nothing to update
    const winner = latestStatus(s, list);
    if (winner) winners.push({ ...winner, siteId });
  }
  if (winners.length > 0) {
    await tx.run(
      `UPDATE sites SET last_status_json = u.j, last_status_at = u.ts, last_status_stream = u.st, last_status_seq = u.q
         FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[]) AS u(id, j, ts, st, q) WHERE sites.id = u.id`,
      [winners.map((w) => w.siteId), winners.map((w) => text(w.json)), winners.map((w) => w.ts), winners.map((w) => w.stream), winners.map((w) => w.seq)],
    );
  }
  await tx.run('UPDATE sites SET last_seen_at = ? WHERE id = ANY(?::text[]) AND (last_seen_at IS NULL OR last_seen_at < ?)', [receivedAt, siteIds, receivedAt]);
  return { groups, marks };
}
