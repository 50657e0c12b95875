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
  /** Seqs still waiting for the hub's ack. */
  pending: number[];
  /** The highest seq the outbox ever handed out (SQLite AUTOINCREMENT's counter). */
  maxSeq: number;
}

export function agentOutbox(agentDataDir: string): OutboxSnapshot {
  const db = open(join(agentDataDir, 'outbox.db'));
  try {
    const pending = (db.prepare('SELECT seq FROM outbox ORDER BY seq').all() as Array<{ seq: number }>).map((r) => r.seq);
    const row = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get() as { seq: number } | undefined;
    return { pending, maxSeq: row?.seq ?? 0 };
  } finally {
    db.close();
  }
}
