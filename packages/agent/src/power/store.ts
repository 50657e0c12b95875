/**
 * Outage records in <dataDir>/power.db (SQLite, WAL, synchronous=FULL): the open outage is written
 * at every change, so that it survives the shutdown it causes and is closed after the reboot.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Outage } from './policy.js';

interface Row {
  id: number;
  start_ms: number;
  end_ms: number | null;
  lowest_charge: number | null;
  shutdown: number;
}

const toOutage = (r: Row): Outage => ({ start: r.start_ms, end: r.end_ms, lowestCharge: r.lowest_charge, shutdown: r.shutdown === 1 });

export class PowerStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS outages (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      start_ms INTEGER NOT NULL UNIQUE,
      end_ms INTEGER,
      lowest_charge REAL,
      shutdown INTEGER NOT NULL DEFAULT 0)`);
  }

  /** Inserts or updates the outage that started at `o.start`. */
  save(o: Outage): void {
    this.db
      .prepare(
        `INSERT INTO outages (start_ms, end_ms, lowest_charge, shutdown) VALUES (?, ?, ?, ?)
         ON CONFLICT (start_ms) DO UPDATE SET end_ms = excluded.end_ms, lowest_charge = excluded.lowest_charge, shutdown = excluded.shutdown`,
      )
      .run(o.start, o.end, o.lowestCharge, o.shutdown ? 1 : 0);
  }

  open(): Outage | null {
    const r = this.db.prepare('SELECT * FROM outages WHERE end_ms IS NULL ORDER BY start_ms DESC LIMIT 1').get() as Row | undefined;
    return r ? toOutage(r) : null;
  }

  recent(limit = 20): Outage[] {
    return (this.db.prepare('SELECT * FROM outages ORDER BY start_ms DESC LIMIT ?').all(limit) as Row[]).map(toOutage);
  }

  close(): void {
    this.db.close();
  }
}
