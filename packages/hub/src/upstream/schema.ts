/**
 * Tables of upstream mirroring. They are created on demand (IF NOT EXISTS) rather than as
 * numbered migrations because each side needs only its half: the MoH hub the relay registry,
 * a DPS hub the outgoing log. Neither changes an existing table.
 */
import type { Db } from '../store/db.js';

/** MoH side: relay principals and which relay brought each site. */
export function ensureRelaySchema(db: Db): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS relays (
      id TEXT PRIMARY KEY,
      province TEXT NOT NULL,
      password_hash TEXT NOT NULL,
      created_at TEXT NOT NULL
    ) STRICT;
    CREATE TABLE IF NOT EXISTS relay_sites (
      site_id TEXT PRIMARY KEY,
      relay_id TEXT NOT NULL,
      first_at TEXT NOT NULL
    ) STRICT;
  `);
}

/**
 * DPS side: every stored message and connection gets a row in upstream_log, in the same
 * transaction that stored it (triggers), so the log's order is the store's order and nothing
 * committed can miss it. The cursor is the highest n the MoH hub acked. The first time, what the
 * hub already held is logged too (by arrival time), so a hub that starts mirroring late sends
 * its history.
 */
export function ensureUpstreamLog(db: Db): void {
  db.transaction(() => {
    const fresh = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'upstream_log'`).get() === undefined;
    db.exec(`
      CREATE TABLE IF NOT EXISTS upstream_log (
        n INTEGER PRIMARY KEY AUTOINCREMENT,
        site_id TEXT NOT NULL,
        stream TEXT,
        seq INTEGER,
        connection_id INTEGER
      ) STRICT;
      CREATE TABLE IF NOT EXISTS upstream_cursor (
        relay_id TEXT PRIMARY KEY,
        acked_n INTEGER NOT NULL
      ) STRICT;
      CREATE TRIGGER IF NOT EXISTS upstream_log_message AFTER INSERT ON messages BEGIN
        INSERT INTO upstream_log (site_id, stream, seq) VALUES (NEW.site_id, NEW.stream, NEW.seq);
      END;
      CREATE TRIGGER IF NOT EXISTS upstream_log_connection AFTER INSERT ON connections BEGIN
        INSERT INTO upstream_log (site_id, connection_id) VALUES (NEW.site_id, NEW.id);
      END;
      CREATE TABLE IF NOT EXISTS upstream_snapshots (
        relay_id TEXT NOT NULL,
        site_id TEXT NOT NULL,
        snapshot_id TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (relay_id, site_id, snapshot_id)
      ) STRICT;
    `);
    if (!fresh) return;
    db.exec(`
      INSERT INTO upstream_log (site_id, stream, seq, connection_id)
      SELECT site_id, stream, seq, connection_id FROM (
        SELECT site_id, stream, seq, NULL AS connection_id, received_at AS at, 0 AS k, 0 AS id FROM messages
        UNION ALL
        SELECT site_id, NULL, NULL, id, at, 1, id FROM connections
      ) ORDER BY at, k, id, seq`);
  }).immediate();
}

/** Upstream mirroring switched off: stop logging (and drop the backlog, which nobody would read). */
export function dropUpstreamLog(db: Db): void {
  db.exec(`
    DROP TRIGGER IF EXISTS upstream_log_message;
    DROP TRIGGER IF EXISTS upstream_log_connection;
    DROP TABLE IF EXISTS upstream_log;
  `);
}
