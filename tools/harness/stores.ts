/** Read-only looks into the hub's and an agent's SQLite files, for tests and benchmarks to check what is really stored. */
import Database from 'better-sqlite3';
import { join } from 'node:path';

export interface StoredRow {
  seq: number;
  type: string;
  received_at: string;
}

function open(file: string): Database.Database {
  return new Database(file, { readonly: true, fileMustExist: true });
}

export function hubMessages(hubDataDir: string, siteId: string): StoredRow[] {
  const db = open(join(hubDataDir, 'hub.db'));
  try {
    return db.prepare('SELECT seq, type, received_at FROM messages WHERE site_id = ? ORDER BY seq').all(siteId) as StoredRow[];
  } finally {
    db.close();
  }
}

export function hubMessageCount(hubDataDir: string): number {
  const db = open(join(hubDataDir, 'hub.db'));
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

export interface OutboxSnapshot {
  /** The outbox's stream id (a new outbox database starts a new stream). */
  stream: string;
  /** Seqs still waiting for the hub's ack. */
  pending: number[];
  /** The highest seq the outbox ever handed out (SQLite AUTOINCREMENT's counter). */
  maxSeq: number;
}

export function agentOutbox(agentDataDir: string): OutboxSnapshot {
  const db = open(join(agentDataDir, 'outbox.db'));
  try {
    // One read transaction: one snapshot of the WAL for all three reads. Read one after another, a
    // row the agent added between the first and the second showed in maxSeq but not in pending, so
    // a ledger taken while the agent ran counted it lost (at neither end) though it was queued.
    return db.transaction(() => {
      const pending = (db.prepare('SELECT seq FROM outbox ORDER BY seq').all() as Array<{ seq: number }>).map((r) => r.seq);
      const row = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get() as { seq: number } | undefined;
      const stream = (db.prepare("SELECT value FROM meta WHERE key = 'stream'").get() as { value: string } | undefined)?.value ?? '';
      return { stream, pending, maxSeq: row?.seq ?? 0 };
    })();
  } finally {
    db.close();
  }
}

export interface StreamRecord {
  stream: string;
  /** Stored seqs, ascending, with repeats if the same key were ever stored twice. */
  seqs: number[];
  /** The hub's own count of messages received on the stream (its gap detection). */
  receivedCount: number;
}

/** Every stream the hub holds for a site, with the seqs it stored: what a ledger compares with the agent's outbox. */
export function hubStreams(hubDataDir: string, siteId: string): StreamRecord[] {
  const db = open(join(hubDataDir, 'hub.db'));
  try {
    const counts = db.prepare('SELECT stream, received_count AS n FROM streams WHERE site_id = ?').all(siteId) as Array<{ stream: string; n: number }>;
    const rows = db.prepare('SELECT stream, seq FROM messages WHERE site_id = ? ORDER BY stream, seq').all(siteId) as Array<{ stream: string; seq: number }>;
    const out = new Map<string, StreamRecord>(counts.map((c) => [c.stream, { stream: c.stream, seqs: [], receivedCount: c.n }]));
    for (const r of rows) {
      let rec = out.get(r.stream);
      if (!rec) out.set(r.stream, (rec = { stream: r.stream, seqs: [], receivedCount: 0 }));
      rec.seqs.push(r.seq);
    }
    return [...out.values()];
  } finally {
    db.close();
  }
}

/** Whether the hub stored this one message. */
export function hubHasMessage(hubDataDir: string, siteId: string, stream: string, seq: number): boolean {
  const db = open(join(hubDataDir, 'hub.db'));
  try {
    return db.prepare('SELECT 1 FROM messages WHERE site_id = ? AND stream = ? AND seq = ?').get(siteId, stream, seq) !== undefined;
  } finally {
    db.close();
  }
}

/** SQLite's own check of a database file ("ok" when sound). */
export function integrityCheck(file: string): string {
  const db = open(file);
  try {
    return (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; ');
  } finally {
    db.close();
  }
}
