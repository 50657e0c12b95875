/**
 * The change feed: which sites changed, told to its subscribers (the alert service, which the
 * console follows) without touching the ingest hot path. Every `pollMs` it asks the store for sites
 * whose last_seen_at moved, new connections (births, deaths) and new sites: two indexed queries
 * over small tables, so ingest stays unaware of who watches.
 */
import type { Db } from '../store/db.js';

export type ChangeListener = (sites: Set<string>) => void;

export class ChangeFeed {
  private lastSeen: string;
  private lastConnection: number;
  private lastRowid: number;
  private readonly seenQuery;
  private readonly connQuery;
  private readonly newSites;
  private readonly listeners: ChangeListener[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(db: Db) {
    this.lastSeen = (db.prepare('SELECT MAX(last_seen_at) FROM sites').pluck().get() as string | null) ?? '';
    this.lastConnection = (db.prepare('SELECT MAX(id) FROM connections').pluck().get() as number | null) ?? 0;
    this.lastRowid = (db.prepare('SELECT MAX(rowid) FROM sites').pluck().get() as number | null) ?? 0;
    this.seenQuery = db.prepare('SELECT id, last_seen_at FROM sites WHERE last_seen_at > ?');
    this.connQuery = db.prepare('SELECT id, site_id FROM connections WHERE id > ? ORDER BY id');
    this.newSites = db.prepare('SELECT rowid, id FROM sites WHERE rowid > ?');
  }

  /** `fn` hears the ids of the sites that changed, in the order subscribed. */
  subscribe(fn: ChangeListener): void {
    this.listeners.push(fn);
  }

  /**
   * Polls every `pollMs` and tells the subscribers. A poll or a subscriber that throws (a locked or
   * closing database) goes to `onError`, and the next tick tries again: it must not take the hub down.
   */
  start(pollMs: number, onError: (err: Error) => void): void {
    this.timer = setInterval(() => {
      try {
        this.tick();
      } catch (err) {
        onError(err as Error);
      }
    }, pollMs);
    this.timer.unref();
  }

  /** One poll, told to the subscribers when anything changed. */
  tick(): void {
    const changed = this.poll();
    if (changed.size > 0) for (const fn of this.listeners) fn(changed);
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

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
