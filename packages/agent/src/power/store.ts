/**
 * Outage records in <dataDir>/power.db (SQLite, WAL, synchronous=FULL): the open outage is written
 * at every change, so that it survives the shutdown it causes and is closed after the reboot.
 */
import type Database from 'better-sqlite3';
import { openDurableSqlite } from '../durable-sqlite.js';
import type { Outage } from './policy.js';

interface Row {
  id: number;
  start_ms: number;
  end_ms: number | null;
  lowest_charge: number | null;
  shutdown: number;
  halt_ms: number | null;
  resume_ms: number | null;
}

const toOutage = (r: Row): Outage => ({ start: r.start_ms, end: r.end_ms, lowestCharge: r.lowest_charge, shutdown: r.shutdown === 1, haltedAt: r.halt_ms, resumedAt: r.resume_ms });

export class PowerStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = openDurableSqlite(path);
    this.db.exec(`CREATE TABLE IF NOT EXISTS outages (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      start_ms INTEGER NOT NULL UNIQUE,
      end_ms INTEGER,
      lowest_charge REAL,
      shutdown INTEGER NOT NULL DEFAULT 0)`);
    // Added later: a power.db written by an older agent gets them empty.
    const cols = new Set((this.db.pragma('table_info(outages)') as Array<{ name: string }>).map((c) => c.name));
    for (const c of ['halt_ms', 'resume_ms']) if (!cols.has(c)) this.db.exec(`ALTER TABLE outages ADD COLUMN ${c} INTEGER`);
  }

  /** Inserts or updates the outage that started at `o.start`. */
  save(o: Outage): void {
    this.db
      .prepare(
        `INSERT INTO outages (start_ms, end_ms, lowest_charge, shutdown, halt_ms, resume_ms) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (start_ms) DO UPDATE SET end_ms = excluded.end_ms, lowest_charge = excluded.lowest_charge, shutdown = excluded.shutdown,
           halt_ms = excluded.halt_ms, resume_ms = excluded.resume_ms`,
      )
      .run(o.start, o.end, o.lowestCharge, o.shutdown ? 1 : 0, o.haltedAt ?? null, o.resumedAt ?? null);
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
