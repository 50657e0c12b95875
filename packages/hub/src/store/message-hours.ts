/**
 * Hour marks: for each (site, hour of agent time, stream), the lowest seq of a stored message
 * whose ts falls in that hour. They let the console ask "this site's messages since T" through
 * the dedup key (site, stream, seq) instead of a second per-message index on time.
 *
 * Why: a commit writes about one page per site of every per-message index, and an index on
 * (site, type, ts) cost about a tenth of the hub's CPU under load. Marks are written about once
 * per site per hour. The answer stays exact when an agent's clock jumps: every row with
 * ts >= T lies in an hour >= T's hour, so its seq is >= the lowest mark of those hours; the
 * range from there is read and filtered on ts.
 */
import type { Database, Statement } from 'better-sqlite3';

export const MESSAGE_HOURS_SCHEMA = `
  CREATE TABLE message_hours (
    site_id TEXT NOT NULL,
    hour TEXT NOT NULL,
    stream TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    PRIMARY KEY (site_id, hour, stream)
  ) STRICT, WITHOUT ROWID;`;

/** A mark keeps the lowest seq of its hour, whoever writes it and in whatever order. */
const KEEP_LOWEST = 'ON CONFLICT DO UPDATE SET first_seq = min(first_seq, excluded.first_seq)';

/** Marks every stored message (a migration, or a database filled without ingest). Idempotent. */
export function markAllHours(db: Database): void {
  db.exec(`
    INSERT INTO message_hours (site_id, hour, stream, first_seq)
      SELECT site_id, substr(ts, 1, 13), stream, min(seq) FROM messages WHERE true GROUP BY 1, 2, 3
      ${KEEP_LOWEST};`);
}

/**
 * A FROM clause: the messages `m` of site :site that may have ts >= :from (named parameters).
 * The range read can hold earlier rows too: the caller's WHERE keeps `m.ts >= :from`. CROSS JOIN
 * keeps the marks the outer loop: without statistics SQLite would scan all the site's rows.
 */
export const MESSAGES_SINCE = `
  (SELECT stream, min(first_seq) AS seq FROM message_hours WHERE site_id = :site AND hour >= substr(:from, 1, 13) GROUP BY stream) AS since
  CROSS JOIN messages m ON m.site_id = :site AND m.stream = since.stream AND m.seq >= since.seq`;

interface Mark {
  hour: string;
  seq: number;
}

/** The ingest side: notes each new row inside the commit's transaction, writes only what a mark changes. */
export class HourMarks {
  /** site → stream → the hour last marked and a seq it is known to cover, as committed. */
  private known = new Map<string, Map<string, Mark>>();
  private readonly upsert: Statement;

  constructor(db: Database) {
    this.upsert = db.prepare(`INSERT INTO message_hours (site_id, hour, stream, first_seq) VALUES (?, ?, ?, ?) ${KEEP_LOWEST}`);
  }

  /** A new row `ts` must be canonical (YYYY-MM-DDTHH…), as ingest stores it. */
  note(siteId: string, stream: string, ts: string, seq: number): void {
    let streams = this.known.get(siteId);
    const m = streams?.get(stream);
    // The usual case, no allocation: same hour as the site's last message, a later seq.
    if (m !== undefined && seq >= m.seq && ts.startsWith(m.hour)) return;
    const hour = ts.slice(0, 13);
    this.upsert.run(siteId, hour, stream, seq);
    if (!streams) this.known.set(siteId, (streams = new Map()));
    streams.set(stream, { hour, seq: m !== undefined && m.hour === hour ? Math.min(m.seq, seq) : seq });
  }

  /** After a transaction that rolled back: what was noted in it is not stored, so nothing is known. */
  forget(): void {
    this.known = new Map();
  }
}
