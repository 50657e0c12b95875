/** WAN outages and daily uptime in <dataDir>/network.db (SQLite, WAL): they survive restarts and reboots. */
import type Database from 'better-sqlite3';
import { openDurableSqlite } from '../durable-sqlite.js';
import type { WanOutageRec } from './wan.js';

export class NetworkStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = openDurableSqlite(path);
    this.db.exec(`CREATE TABLE IF NOT EXISTS wan_outages (start_ms INTEGER PRIMARY KEY, end_ms INTEGER);
      CREATE TABLE IF NOT EXISTS wan_daily (day TEXT PRIMARY KEY, observed_ms INTEGER NOT NULL, up_ms INTEGER NOT NULL);`);
  }

  saveOutage(o: WanOutageRec): void {
    this.db.prepare('INSERT INTO wan_outages (start_ms, end_ms) VALUES (?, ?) ON CONFLICT (start_ms) DO UPDATE SET end_ms = excluded.end_ms').run(o.start, o.end);
  }

  openOutage(): WanOutageRec | null {
    const r = this.db.prepare('SELECT start_ms, end_ms FROM wan_outages WHERE end_ms IS NULL ORDER BY start_ms DESC LIMIT 1').get() as { start_ms: number; end_ms: null } | undefined;
    return r ? { start: r.start_ms, end: null } : null;
  }

  lastClosed(): WanOutageRec | null {
    const r = this.db.prepare('SELECT start_ms, end_ms FROM wan_outages WHERE end_ms IS NOT NULL ORDER BY start_ms DESC LIMIT 1').get() as { start_ms: number; end_ms: number } | undefined;
    return r ? { start: r.start_ms, end: r.end_ms } : null;
  }

  account(day: string, observedMs: number, upMs: number): void {
    this.db
      .prepare('INSERT INTO wan_daily (day, observed_ms, up_ms) VALUES (?, ?, ?) ON CONFLICT (day) DO UPDATE SET observed_ms = observed_ms + excluded.observed_ms, up_ms = up_ms + excluded.up_ms')
      .run(day, Math.round(observedMs), Math.round(upMs));
  }

  uptimePct(day: string): number | null {
    const r = this.db.prepare('SELECT observed_ms, up_ms FROM wan_daily WHERE day = ?').get(day) as { observed_ms: number; up_ms: number } | undefined;
    return r && r.observed_ms > 0 ? Math.round((r.up_ms / r.observed_ms) * 1000) / 10 : null;
  }

  prune(keepDays: number): void {
    const cutoff = Date.now() - keepDays * 86_400_000;
    this.db.prepare('DELETE FROM wan_outages WHERE end_ms IS NOT NULL AND end_ms < ?').run(cutoff);
    this.db.prepare('DELETE FROM wan_daily WHERE day < ?').run(new Date(cutoff).toISOString().slice(0, 10));
  }

  close(): void {
    this.db.close();
  }
}
