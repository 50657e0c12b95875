/**
 * Schema migrations. The hub has one schema, and `PRAGMA user_version` holds how many of its steps
 * have run, so a step is never edited once released: a change is a new step after the last. The
 * store owns the steps below; a feature contributes its own through its HubModule (src/module.ts),
 * each step at its fixed place, and src/database.ts puts them all in order (orderSteps).
 */
import type { Database } from 'better-sqlite3';
import type { Migration } from './db.js';
import { MESSAGE_HOURS_SCHEMA, markAllHours } from './message-hours.js';
import { DRILLS_INDEX } from './drills.js';

export type { Migration };

/** One step of the schema: `step` is its place in user_version order (1 = the first schema). */
export interface MigrationStep {
  step: number;
  up: Migration;
}

/** The steps in user_version order; a step missing or given twice is a programming error, said at start. */
export function orderSteps(steps: Iterable<MigrationStep>): Migration[] {
  const byStep = new Map<number, Migration>();
  for (const s of steps) {
    if (!Number.isInteger(s.step) || s.step < 1) throw new Error(`migration step ${s.step} is not a positive integer`);
    if (byStep.has(s.step)) throw new Error(`migration step ${s.step} is given twice`);
    byStep.set(s.step, s.up);
  }
  const ordered: Migration[] = [];
  for (let step = 1; step <= byStep.size; step++) {
    const up = byStep.get(step);
    if (!up) throw new Error(`migration step ${step} is missing (steps go up to ${Math.max(...byStep.keys())})`);
    ordered.push(up);
  }
  return ordered;
}

/** The store's own steps; 3 and 5 are the backups module's (backups/module.ts). */
export const STORE_MIGRATIONS: readonly MigrationStep[] = [
  // 1: the first schema.
  { step: 1, up: (db) =>
    db.exec(`
      CREATE TABLE sites (
        id TEXT PRIMARY KEY,
        name TEXT,
        province TEXT,
        created_at TEXT NOT NULL,
        password_hash TEXT,
        enrolled_at TEXT,
        last_seen_at TEXT,
        connected INTEGER NOT NULL DEFAULT 0,
        bd_seq INTEGER,
        agent_version TEXT,
        birth_json TEXT,
        birth_at TEXT,
        last_status_json TEXT,
        last_status_at TEXT,
        last_status_stream TEXT,
        last_status_seq INTEGER
      ) STRICT;
      CREATE TABLE enroll_tokens (
        token_hash TEXT PRIMARY KEY,
        site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT
      ) STRICT;
      CREATE INDEX enroll_tokens_site ON enroll_tokens(site_id);
      CREATE TABLE api_tokens (
        token_hash TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
      -- One row per (site, outbox stream, seq): the primary key is what makes receipt idempotent.
      CREATE TABLE messages (
        site_id TEXT NOT NULL,
        stream TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        ts TEXT NOT NULL,
        received_at TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (site_id, stream, seq)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX messages_site_type_ts ON messages(site_id, type, ts);
      -- Gap detection: a stream with max_seq > received_count is missing messages.
      CREATE TABLE streams (
        site_id TEXT NOT NULL,
        stream TEXT NOT NULL,
        max_seq INTEGER NOT NULL,
        received_count INTEGER NOT NULL,
        first_at TEXT NOT NULL,
        last_at TEXT NOT NULL,
        PRIMARY KEY (site_id, stream)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE connections (
        id INTEGER PRIMARY KEY,
        site_id TEXT NOT NULL,
        bd_seq INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('birth', 'death')),
        clean INTEGER,
        at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX connections_site_at ON connections(site_id, at);
    `) },
  // 2: the console: people, sessions, the audit log, roles on API tokens, alerts and maintenance windows.
  { step: 2, up: (db) =>
    db.exec(`
      CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      -- Only a SHA-256 of the cookie value is stored: a copy of the database opens no session.
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        ip TEXT
      ) STRICT;
      CREATE INDEX sessions_user ON sessions(user_id);
      CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        role TEXT,
        action TEXT NOT NULL,
        target TEXT,
        ok INTEGER NOT NULL,
        ip TEXT,
        detail TEXT
      ) STRICT;
      CREATE INDEX audit_at ON audit(at);
      -- Tokens made before roles existed could only read: they stay viewers.
      ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'viewer' CHECK (role IN ('admin', 'operator', 'viewer'));
      -- site_id NULL: an alert about the hub itself (its certificates).
      CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        site_id TEXT,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        message TEXT NOT NULL,
        data TEXT,
        raised_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        cleared_at TEXT,
        acked_at TEXT,
        acked_by TEXT
      ) STRICT;
      -- Deduplication: at most one open alert per (site, rule).
      CREATE UNIQUE INDEX alerts_open ON alerts(ifnull(site_id, ''), rule) WHERE cleared_at IS NULL;
      CREATE INDEX alerts_site ON alerts(site_id, raised_at);
      CREATE TABLE maintenance (
        id INTEGER PRIMARY KEY,
        site_id TEXT,
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX maintenance_ends ON maintenance(ends_at);
    `) },
  // 4: messages in a rowid table, receipt order, deduplicated by a UNIQUE index.
  { step: 4, up: messagesByRowid },
  // 6: time lookups through hour marks instead of a per-message index on time.
  { step: 6, up: messagesByHour },
  // 7: no stored time more than 5 minutes after its arrival (ingest's futureDated, issue 18).
  { step: 7, up: arrivalBoundsTime },
  // 8: restore drill reports (type 'drill'), rare, found through an index of their own.
  { step: 8, up: (db) => db.exec(DRILLS_INDEX) },
  // Seqs skipped by a jump past mqtt.maxSeqJump: not counted missing (ingest's seqJump, issue 18).
  { step: 9, up: (db) => db.exec('ALTER TABLE streams ADD COLUMN jumped INTEGER NOT NULL DEFAULT 0') },
];

/**
 * With the ~640-byte payloads inside a (site, stream, seq) primary-key tree, every commit rewrote
 * about one full leaf page per site it touched; appended in rowid order, a batch's payloads share
 * pages, and only the small index entries land one page per site. Measured: half the WAL pages and
 * about half the transaction time per message. Triggers on the table (upstream mirroring) are kept.
 */
function messagesByRowid(db: Database): void {
  const triggers = db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'messages'`).pluck().all() as string[];
  db.exec(`
    CREATE TABLE messages_rowid (
      id INTEGER PRIMARY KEY,
      site_id TEXT NOT NULL,
      stream TEXT NOT NULL,
      seq INTEGER NOT NULL,
      type TEXT NOT NULL,
      ts TEXT NOT NULL,
      received_at TEXT NOT NULL,
      payload TEXT NOT NULL
    ) STRICT;
    INSERT INTO messages_rowid (site_id, stream, seq, type, ts, received_at, payload)
      SELECT site_id, stream, seq, type, ts, received_at, payload FROM messages ORDER BY received_at, site_id, stream, seq;
    DROP TABLE messages;
    ALTER TABLE messages_rowid RENAME TO messages;
    -- One row per (site, outbox stream, seq): this index is what makes receipt idempotent.
    CREATE UNIQUE INDEX messages_key ON messages(site_id, stream, seq);
    CREATE INDEX messages_site_type_ts ON messages(site_id, type, ts);
  `);
  for (const sql of triggers) db.exec(sql);
}

/**
 * The (site, type, ts) index cost a page write per site per commit and about a tenth of the hub's
 * CPU under load; hour marks (store/message-hours.ts) answer the console's "since T" queries
 * through the dedup key. Events, rare, keep an index of their own for "the latest events".
 */
function messagesByHour(db: Database): void {
  db.exec(MESSAGE_HOURS_SCHEMA);
  markAllHours(db);
  db.exec(`
    DROP INDEX messages_site_type_ts;
    CREATE INDEX messages_events ON messages(site_id, ts, seq) WHERE type = 'event';
  `);
}

/**
 * A message dated far ahead of its arrival (a site clock ahead, or a forged 2099) took the site's
 * latest status for good and topped its events. Ingest now stores such a message with its arrival
 * time (ingest.ts futureDated); the rows stored before get the same, and each site's latest status
 * the time of its row. One scan of the messages. Hour marks of such rows stay: a mark in a later
 * hour still covers its seq for every "since T" read, so the reads stay exact.
 */
function arrivalBoundsTime(db: Database): void {
  db.exec(`
    UPDATE messages SET ts = received_at WHERE ts > strftime('%Y-%m-%dT%H:%M:%fZ', received_at, '+5 minutes');
    UPDATE sites SET last_status_at = coalesce(
      (SELECT m.ts FROM messages m WHERE m.site_id = sites.id AND m.stream = sites.last_status_stream AND m.seq = sites.last_status_seq),
      last_status_at)
    WHERE last_status_at IS NOT NULL;
  `);
}
