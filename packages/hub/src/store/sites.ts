/** The sites table: what the CLI creates, the broker authenticates against and the API reads. */
import { isSiteId } from '@sentinela/shared';
import type { Db } from './db.js';
import type { Sql } from './sql.js';

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

function checkSiteId(id: string): void {
  if (!isSiteId(id)) {
    throw new SiteError('bad-id', `"${id}" is not a valid site id: use 1-63 lowercase letters, digits and dashes, starting with a letter or digit (e.g. hf-0001)`);
  }
}

const INSERT_SITE = 'INSERT INTO sites (id, name, province, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING';
const siteExistsError = (id: string) => new SiteError('exists', `site ${id} already exists (use "sentinela-hub sites token --id ${id}" to re-enrol it)`);

export function createSite(db: Db, site: { id: string; name?: string; province?: string }, now = new Date()): SiteRow {
  checkSiteId(site.id);
  const res = db.prepare(INSERT_SITE).run(site.id, site.name ?? null, site.province ?? null, now.toISOString());
  if (res.changes === 0) throw siteExistsError(site.id);
  return getSite(db, site.id)!;
}

/** createSite through the SQL facade (the CLI's `sites add`, on either store). */
export async function addSite(sql: Sql, site: { id: string; name?: string; province?: string }, now = new Date()): Promise<SiteRow> {
  checkSiteId(site.id);
  const res = await sql.run(INSERT_SITE, [site.id, site.name ?? null, site.province ?? null, now.toISOString()]);
  if (res.changes === 0) throw siteExistsError(site.id);
  return (await findSite(sql, site.id))!;
}

/** getSite through the SQL facade (the API's reads, on either store). */
export function findSite(sql: Sql, id: string): Promise<SiteRow | undefined> {
  return sql.one<SiteRow>('SELECT * FROM sites WHERE id = ?', [id]);
}

export function getSite(db: Db, id: string): SiteRow | undefined {
  return db.prepare('SELECT * FROM sites WHERE id = ?').get(id) as SiteRow | undefined;
}

/** The sites by id, `limit` from `offset` (all by default), and how many there are. */
export async function listSites(sql: Sql, offset = 0, limit = -1): Promise<{ rows: SiteRow[]; total: number }> {
  const total = (await sql.one<{ n: number }>('SELECT count(*) AS n FROM sites'))!.n;
  const rows = limit < 0 ? await sql.query<SiteRow>('SELECT * FROM sites ORDER BY id') : await sql.query<SiteRow>('SELECT * FROM sites ORDER BY id LIMIT ? OFFSET ?', [limit, offset]);
  return { rows, total };
}

/**
 * Revokes a site's MQTT credentials: its password stops working (the broker drops a live session
 * within the hub's sweep) and its unused enrolment tokens expire. Its stored data stays.
 * Returns false when there is no such site.
 */
export function revokeSite(sql: Sql, id: string, now = new Date()): Promise<boolean> {
  return sql.transaction(async (tx) => {
    const res = await tx.run('UPDATE sites SET password_hash = NULL WHERE id = ?', [id]);
    if (res.changes === 0) return false;
    await tx.run('UPDATE enroll_tokens SET expires_at = ? WHERE site_id = ? AND used_at IS NULL AND expires_at > ?', [now.toISOString(), id, now.toISOString()]);
    return true;
  });
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

export function siteStreams(sql: Sql, id: string): Promise<StreamRow[]> {
  return sql.query<StreamRow>('SELECT stream, max_seq, received_count, jumped, first_at, last_at FROM streams WHERE site_id = ? ORDER BY last_at DESC', [id]);
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

export function latestEvents(sql: Sql, siteId: string, limit: number): Promise<EventRow[]> {
  return sql.query<EventRow>(`SELECT stream, seq, ts, received_at, payload FROM messages WHERE site_id = ? AND type = 'event' ORDER BY ts DESC, seq DESC LIMIT ?`, [siteId, limit]);
}

/** At start-up of the embedded broker no site can be connected yet: every agent reconnects and sends a birth. */
export function markAllDisconnected(db: Db): number {
  return db.prepare('UPDATE sites SET connected = 0 WHERE connected = 1').run().changes;
}
