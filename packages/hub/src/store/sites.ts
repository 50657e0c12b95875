/** The sites table: what the CLI creates, the broker authenticates against and the API reads. */
import { isSiteId } from '@sentinela/shared';
import type { Db } from './db.js';

export interface SiteRow {
  id: string;
  name: string | null;
  province: string | null;
  created_at: string;
  password_hash: string | null;
  enrolled_at: string | null;
  last_seen_at: string | null;
  connected: number;
  bd_seq: number | null;
  agent_version: string | null;
  birth_json: string | null;
  birth_at: string | null;
  last_status_json: string | null;
  last_status_at: string | null;
  last_status_stream: string | null;
  last_status_seq: number | null;
}

export class SiteError extends Error {
  constructor(
    readonly code: 'bad-id' | 'exists' | 'unknown',
    message: string,
  ) {
    super(message);
    this.name = 'SiteError';
  }
}

export function createSite(db: Db, site: { id: string; name?: string; province?: string }, now = new Date()): SiteRow {
  if (!isSiteId(site.id)) {
    throw new SiteError('bad-id', `"${site.id}" is not a valid site id: use 1-63 lowercase letters, digits and dashes, starting with a letter or digit (e.g. hf-0001)`);
  }
  const res = db
    .prepare('INSERT OR IGNORE INTO sites (id, name, province, created_at) VALUES (?, ?, ?, ?)')
    .run(site.id, site.name ?? null, site.province ?? null, now.toISOString());
  if (res.changes === 0) throw new SiteError('exists', `site ${site.id} already exists (use "sentinela-hub sites token --id ${site.id}" to re-enrol it)`);
  return getSite(db, site.id)!;
}

export function getSite(db: Db, id: string): SiteRow | undefined {
  return db.prepare('SELECT * FROM sites WHERE id = ?').get(id) as SiteRow | undefined;
}

export function listSites(db: Db): SiteRow[] {
  return db.prepare('SELECT * FROM sites ORDER BY id').all() as SiteRow[];
}

/**
 * Revokes a site's MQTT credentials: its password stops working (the broker drops a live session
 * within the hub's sweep) and its unused enrolment tokens expire. Its stored data stays.
 * Returns false when there is no such site.
 */
export function revokeSite(db: Db, id: string, now = new Date()): boolean {
  return db.transaction(() => {
    const res = db.prepare('UPDATE sites SET password_hash = NULL WHERE id = ?').run(id);
    if (res.changes === 0) return false;
    db.prepare('UPDATE enroll_tokens SET expires_at = ? WHERE site_id = ? AND used_at IS NULL AND expires_at > ?').run(now.toISOString(), id, now.toISOString());
    return true;
  }).immediate();
}

/** Sites that may not hold an MQTT session: no password (never enrolled, or revoked). */
export function sitesWithoutCredentials(db: Db): Set<string> {
  return new Set(db.prepare('SELECT id FROM sites WHERE password_hash IS NULL').pluck().all() as string[]);
}

export function siteExists(db: Db, id: string): boolean {
  return db.prepare('SELECT 1 FROM sites WHERE id = ?').get(id) !== undefined;
}

export interface StreamRow {
  stream: string;
  max_seq: number;
  received_count: number;
  /** Seqs skipped by jumps past mqtt.maxSeqJump: not missing. */
  jumped: number;
  first_at: string;
  last_at: string;
}

export function siteStreams(db: Db, id: string): StreamRow[] {
  return db.prepare('SELECT stream, max_seq, received_count, jumped, first_at, last_at FROM streams WHERE site_id = ? ORDER BY last_at DESC').all(id) as StreamRow[];
}

/** Message counts per site (from streams, so it costs one row per stream, not a scan of messages). */
export function receivedCounts(db: Db): Map<string, { received: number; gaps: number }> {
  const rows = db
    .prepare('SELECT site_id, SUM(received_count) AS received, SUM(max(0, max_seq - received_count - jumped)) AS gaps FROM streams GROUP BY site_id')
    .all() as Array<{ site_id: string; received: number; gaps: number }>;
  return new Map(rows.map((r) => [r.site_id, { received: r.received, gaps: r.gaps }]));
}

export interface EventRow {
  stream: string;
  seq: number;
  ts: string;
  received_at: string;
  payload: string;
}

export function latestEvents(db: Db, siteId: string, limit: number): EventRow[] {
  return db
    .prepare(`SELECT stream, seq, ts, received_at, payload FROM messages WHERE site_id = ? AND type = 'event' ORDER BY ts DESC, seq DESC LIMIT ?`)
    .all(siteId, limit) as EventRow[];
}

/** At start-up of the embedded broker no site can be connected yet: every agent reconnects and sends a birth. */
export function markAllDisconnected(db: Db): number {
  return db.prepare('UPDATE sites SET connected = 0 WHERE connected = 1').run().changes;
}
