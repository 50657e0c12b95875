/**
 * Notices which sites changed without touching the ingest hot path: once a second it asks
 * the store for sites whose last_seen_at moved, new connections (births, deaths) and new
 * sites. Two indexed queries over small tables; the ingest code stays unaware of the console.
 */
import type { Db } from '../store/db.js';

export class ChangeWatcher {
  private lastSeen: string;
  private lastConnection: number;
  private lastRowid: number;
  private readonly seenQuery;
  private readonly connQuery;
  private readonly newSites;

  constructor(db: Db) {
    this.lastSeen = (db.prepare('SELECT MAX(last_seen_at) FROM sites').pluck().get() as string | null) ?? '';
    this.lastConnection = (db.prepare('SELECT MAX(id) FROM connections').pluck().get() as number | null) ?? 0;
    this.lastRowid = (db.prepare('SELECT MAX(rowid) FROM sites').pluck().get() as number | null) ?? 0;
    this.seenQuery = db.prepare('SELECT id, last_seen_at FROM sites WHERE last_seen_at > ?');
    this.connQuery = db.prepare('SELECT id, site_id FROM connections WHERE id > ? ORDER BY id');
    this.newSites = db.prepare('SELECT rowid, id FROM sites WHERE rowid > ?');
  }

  /** The ids of sites that changed since the last call. */
  poll(): Set<string> {
    const changed = new Set<string>();
    for (const r of this.seenQuery.all(this.lastSeen) as Array<{ id: string; last_seen_at: string }>) {
      changed.add(r.id);
      if (r.last_seen_at > this.lastSeen) this.lastSeen = r.last_seen_at;
    }
    for (const r of this.connQuery.all(this.lastConnection) as Array<{ id: number; site_id: string }>) {
      changed.add(r.site_id);
      this.lastConnection = r.id;
    }
    for (const r of this.newSites.all(this.lastRowid) as Array<{ rowid: number; id: string }>) {
      changed.add(r.id);
      if (r.rowid > this.lastRowid) this.lastRowid = r.rowid;
    }
    return changed;
  }
}
