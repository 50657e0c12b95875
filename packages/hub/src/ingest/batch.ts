/**
 * What a batch of ingest is made of, shared by the SQLite commit (ingest.ts) and the PostgreSQL
 * one (pg-batch.ts): the pending messages, the groups acked per (site, stream), the latest-status rule.
 */
import type { BirthMessage, DeathMessage, QueuedMessage } from '@sentinela/shared';

/**
 * A message waiting for its commit. A status or event keeps only its row's columns, not the
 * decoded object: batches wait for a commit and a disk sync, long enough for the young heap to be
 * collected once or twice meanwhile, and every object still alive then is copied, then promoted.
 * Keeping each message's whole JSON tree until its commit made the hub's garbage collection cost
 * more than its SQLite inserts.
 */
export type Pending =
  | { kind: 'row'; siteId: string; type: QueuedMessage['type']; stream: string; seq: number; ts: string; json: string | Buffer }
  | { kind: 'birth'; siteId: string; message: BirthMessage; raw: string | undefined }
  | { kind: 'death'; siteId: string; message: DeathMessage };

export type PendingRow = Extract<Pending, { kind: 'row' }>;
export type StatusRow = Pick<PendingRow, 'json' | 'ts' | 'stream' | 'seq'>;

/**
 * Whether `m` replaces `current` as a site's latest status: the WHERE clause of the lastStatus
 * statement (a later seq of the same stream, or a time no earlier from another stream; ISO times
 * of one format compare as strings, as in SQLite). A stored time is never more than mqtt.maxClockAheadSeconds
 * after the message's arrival (see futureDated), so a stream dated ahead cannot outrank the agent
 * sending now for longer than that.
 */
export function newerStatus(current: { ts: string | null; stream: string | null; seq: number | null }, m: StatusRow): boolean {
  if (current.ts === null) return true;
  if (current.stream === m.stream) return current.seq !== null && current.seq < m.seq;
  return current.ts <= m.ts;
}

/** The status among `rows` (in arrival order) that ends up a site's latest over `stored`, or null when none beats it. */
export function latestStatus(stored: { ts: string | null; stream: string | null; seq: number | null }, rows: readonly StatusRow[]): StatusRow | null {
  let current = stored;
  let winner: StatusRow | null = null;
  for (const r of rows) {
    if (newerStatus(current, r)) {
      current = r;
      winner = r;
    }
  }
  return winner;
}

/**
 * A message time as stored: UTC, milliseconds, 'Z' (so that times compare as strings). An agent
 * sends exactly that (toISOString), and the schema has checked it is a valid ISO time, so only
 * another shape (an offset, no milliseconds) is parsed and rewritten: a Date per message was a
 * tenth of the ingest's JavaScript time.
 */
export function canonicalTime(ts: string): string {
  if (ts.length === 24 && ts.charCodeAt(23) === 90 /* Z */ && ts.charCodeAt(19) === 46 /* . */ && ts.charCodeAt(10) === 84 /* T */) return ts;
  return new Date(ts).toISOString();
}


export interface AckGroup {
  siteId: string;
  stream: string;
  seqs: number[];
  rejected: Array<{ seq: number; reason: string }>;
}

/** A batch's messages of one (site, stream): the seqs to ack, and the new rows among them for the streams row. */
export interface StreamGroup extends AckGroup {
  count: number;
  /** The highest seq so far: the stored one (0 for a new stream), then the batch's. */
  maxSeq: number;
  /** Seqs skipped by jumps past maxSeqJump in this batch. */
  jumped: number;
}

