/**
 * Restore drill reports as the hub stores them: `drill` rows of the messages table (ingest keeps
 * them like events), found through their own partial index. Drills are rare (about one a week per
 * site), so every reader here parses the few reports it needs.
 */
import { DrillReport } from '@sentinela/shared';
import type { Db } from './db.js';

export interface StoredDrill {
  siteId: string;
  /** When the agent queued the report. */
  ts: string;
  drill: DrillReport;
}

export const DRILLS_INDEX = "CREATE INDEX messages_drills ON messages(site_id, ts, seq) WHERE type = 'drill'";

function parse(siteId: string, ts: string, payload: string): StoredDrill | null {
  try {
    const r = DrillReport.safeParse((JSON.parse(payload) as { drill?: unknown }).drill);
    return r.success ? { siteId, ts, drill: r.data } : null;
  } catch {
    return null;
  }
}

/** A site's drills, newest first, at most `limit`. */
export function siteDrills(db: Db, siteId: string, limit = 50): StoredDrill[] {
  const rows = db
    .prepare("SELECT site_id, ts, payload FROM messages WHERE site_id = ? AND type = 'drill' ORDER BY ts DESC, seq DESC LIMIT ?")
    .all(siteId, limit) as Array<{ site_id: string; ts: string; payload: string }>;
  return rows.map((r) => parse(r.site_id, r.ts, r.payload)).filter((d): d is StoredDrill => d !== null);
}

/** Every site's drills that started within [from, to), oldest first (the continuity report). */
export function drillsBetween(db: Db, from: string, to: string, siteIds?: readonly string[]): StoredDrill[] {
  const rows = db
    .prepare("SELECT site_id, ts, payload FROM messages WHERE type = 'drill' AND ts >= ? AND ts < ? ORDER BY ts, seq")
    .all(from, to) as Array<{ site_id: string; ts: string; payload: string }>;
  const only = siteIds ? new Set(siteIds) : null;
  return rows
    .filter((r) => !only || only.has(r.site_id))
    .map((r) => parse(r.site_id, r.ts, r.payload))
    .filter((d): d is StoredDrill => d !== null);
}

/** A site's newest drill and when its newest passing drill finished (what the alert rules need; two index walks that stop at the first row). */
export function drillFacts(db: Db, siteId: string): { last: StoredDrill | null; lastPassAt: string | null } {
  const passed = db
    .prepare("SELECT json_extract(payload, '$.drill.finishedAt') FROM messages WHERE site_id = ? AND type = 'drill' AND json_extract(payload, '$.drill.ok') = 1 ORDER BY ts DESC, seq DESC LIMIT 1")
    .pluck()
    .get(siteId) as string | undefined;
  return { last: siteDrills(db, siteId, 1)[0] ?? null, lastPassAt: passed ?? null };
}

/** The newest result of each (source, location) across a site's recent drills. */
export function latestResults(drills: readonly StoredDrill[]): Array<{ at: string; by: string; result: DrillReport['results'][number] }> {
  const seen = new Map<string, { at: string; by: string; result: DrillReport['results'][number] }>();
  for (const d of drills)
    for (const r of d.drill.results) {
      const key = `${r.source}\u0000${r.location}`;
      if (!seen.has(key)) seen.set(key, { at: d.drill.finishedAt, by: d.drill.by, result: r });
    }
  return [...seen.values()].sort((a, b) => a.result.source.localeCompare(b.result.source) || a.result.location.localeCompare(b.result.location));
}
