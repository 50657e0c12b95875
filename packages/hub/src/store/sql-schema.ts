/**
 * The hub's schema at step 9 written once in neutral form: PostgreSQL's baseline (a new database
 * gets it in one step). SQLite reaches the same tables through its released steps 1–9
 * (store/migrations.ts, backups/module.ts); test/store-postgres.test.ts compares the two, table by
 * table and column by column, so the baseline cannot drift from SQLite's history.
 *
 * Upstream mirroring's tables (upstream/schema.ts, created on demand with SQLite triggers) are not
 * here: upstream runs on SQLite only for now.
 */
import { spell, type SqlStep } from './sql-migrate.js';
import type { Dialect } from './sql.js';

function baseline(d: Dialect): string {
  const t = spell(d);
  const pg = d === 'postgres';
  return `
    CREATE TABLE sites (
      id TEXT PRIMARY KEY,
      name TEXT,
      province TEXT,
      created_at TEXT NOT NULL,
      password_hash TEXT,
      enrolled_at TEXT,
      last_seen_at TEXT,
      connected INTEGER NOT NULL DEFAULT 0,
      bd_seq ${t.int},
      agent_version TEXT,
      birth_json TEXT,
      birth_at TEXT,
      last_status_json TEXT,
      last_status_at TEXT,
      last_status_stream TEXT,
      last_status_seq ${t.int}
    ) ${t.strict};
    CREATE TABLE enroll_tokens (
      token_hash TEXT PRIMARY KEY,
      site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      used_at TEXT
    ) ${t.strict};
    CREATE INDEX enroll_tokens_site ON enroll_tokens(site_id);
    CREATE TABLE api_tokens (
      token_hash TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      created_at TEXT NOT NULL,
      role TEXT NOT NULL DEFAULT 'viewer' CHECK (role IN ('admin', 'operator', 'viewer'))
    ) ${t.strict};
    -- One row per stored message, in receipt order; the unique key is what makes receipt idempotent,
    -- across hub instances too (each one's INSERT … ON CONFLICT DO NOTHING).
    CREATE TABLE messages (
      id ${t.id},
      site_id TEXT NOT NULL,
      stream TEXT NOT NULL,
      seq ${t.int} NOT NULL,
      type TEXT NOT NULL,
      ts TEXT NOT NULL,
      received_at TEXT NOT NULL,
      payload TEXT NOT NULL
    ) ${t.strict};
    CREATE UNIQUE INDEX messages_key ON messages(site_id, stream, seq);
    CREATE INDEX messages_events ON messages(site_id, ts, seq) WHERE type = 'event';
    CREATE INDEX messages_drills ON messages(site_id, ts, seq) WHERE type = 'drill';
    CREATE TABLE message_hours (
      site_id TEXT NOT NULL,
      hour TEXT NOT NULL,
      stream TEXT NOT NULL,
      first_seq ${t.int} NOT NULL,
      PRIMARY KEY (site_id, hour, stream)
    ) ${t.strictNoRowid};
    CREATE TABLE streams (
      site_id TEXT NOT NULL,
      stream TEXT NOT NULL,
      max_seq ${t.int} NOT NULL,
      received_count ${t.int} NOT NULL,
      first_at TEXT NOT NULL,
      last_at TEXT NOT NULL,
      jumped ${t.int} NOT NULL DEFAULT 0,
      PRIMARY KEY (site_id, stream)
    ) ${t.strictNoRowid};
    CREATE TABLE connections (
      id ${t.id},
      site_id TEXT NOT NULL,
      bd_seq ${t.int} NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('birth', 'death')),
      clean INTEGER,
      at TEXT NOT NULL
    ) ${t.strict};
    CREATE INDEX connections_site_at ON connections(site_id, at);
    CREATE TABLE users (
      id ${t.id},
      name TEXT NOT NULL ${pg ? '' : 'UNIQUE COLLATE NOCASE'},
      role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
      password_hash TEXT NOT NULL,
      created_at TEXT NOT NULL,
      disabled INTEGER NOT NULL DEFAULT 0
    ) ${t.strict};
    ${pg ? '-- Names are unique whatever their case, as SQLite\'s COLLATE NOCASE.\n    CREATE UNIQUE INDEX users_name ON users (lower(name));' : ''}
    CREATE TABLE sessions (
      token_hash TEXT PRIMARY KEY,
      user_id ${t.int} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      csrf TEXT NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      ip TEXT
    ) ${t.strict};
    CREATE INDEX sessions_user ON sessions(user_id);
    CREATE TABLE audit (
      id ${t.id},
      at TEXT NOT NULL,
      actor TEXT NOT NULL,
      role TEXT,
      action TEXT NOT NULL,
      target TEXT,
      ok INTEGER NOT NULL,
      ip TEXT,
      detail TEXT
    ) ${t.strict};
    CREATE INDEX audit_at ON audit(at);
    CREATE TABLE alerts (
      id ${t.id},
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
    ) ${t.strict};
    -- At most one open alert per (site, rule), whichever instance raises it.
    CREATE UNIQUE INDEX alerts_open ON alerts(coalesce(site_id, ''), rule) WHERE cleared_at IS NULL;
    CREATE INDEX alerts_site ON alerts(site_id, raised_at);
    CREATE TABLE maintenance (
      id ${t.id},
      site_id TEXT,
      starts_at TEXT NOT NULL,
      ends_at TEXT NOT NULL,
      reason TEXT NOT NULL,
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL
    ) ${t.strict};
    CREATE INDEX maintenance_ends ON maintenance(ends_at);
    CREATE TABLE backup_snapshots (
      site_id TEXT NOT NULL,
      id TEXT NOT NULL,
      base TEXT,
      objects ${t.int} NOT NULL,
      bytes ${t.int} NOT NULL,
      received_bytes ${t.int} NOT NULL,
      received_at TEXT NOT NULL,
      verified_at TEXT,
      damaged TEXT,
      PRIMARY KEY (site_id, id)
    ) ${t.strict};
    CREATE TABLE backup_escrow (
      site_id TEXT PRIMARY KEY,
      key_id TEXT NOT NULL,
      sealed TEXT NOT NULL,
      deposited_at TEXT NOT NULL
    ) ${t.strict};`;
}

/** PostgreSQL's schema steps: the baseline (= SQLite at step 9), then the neutral steps both run. */
export const SQL_STEPS: readonly SqlStep[] = [{ step: 9, sql: baseline }];
