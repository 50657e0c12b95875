/**
 * The catalogue of off-site snapshots in the hub's database: per site, which snapshots the hub
 * holds, their sizes and when they were last verified. The files are the truth (the repository
 * folder); this is what the API and console list without walking the disk.
 */
import type { Database } from 'better-sqlite3';
import type { Db } from '../store/db.js';

/** Schema step 3 (backups/module.ts). */
export function backupsMigration(db: Database): void {
  db.exec(`
    CREATE TABLE backup_snapshots (
      site_id TEXT NOT NULL,
      id TEXT NOT NULL,
      base TEXT,
      objects INTEGER NOT NULL,
      -- stored bytes of this snapshot's own objects, and of those that crossed the link for it
      bytes INTEGER NOT NULL,
      received_bytes INTEGER NOT NULL,
      received_at TEXT NOT NULL,
      verified_at TEXT,
      PRIMARY KEY (site_id, id)
    ) STRICT;
    -- The site's master key sealed to the hub's escrow key (only the hub's private key opens it).
    CREATE TABLE backup_escrow (
      site_id TEXT PRIMARY KEY,
      key_id TEXT NOT NULL,
      sealed TEXT NOT NULL,
      deposited_at TEXT NOT NULL
    ) STRICT;
  `);
}

/** Step 5: what the last keyless verify found wrong with a snapshot (null: nothing). */
export function backupsDamageMigration(db: Database): void {
  db.exec(`ALTER TABLE backup_snapshots ADD COLUMN damaged TEXT`);
}

export interface CatalogueRow {
  siteId: string;
  id: string;
  base: string | null;
  objects: number;
  bytes: number;
  receivedBytes: number;
  receivedAt: string;
  verifiedAt: string | null;
  /** The last verify's finding (damaged objects, a missing base), or null. */
  damaged?: string | null;
}

export function recordSnapshot(db: Db, r: CatalogueRow): void {
  db.prepare(
    `INSERT INTO backup_snapshots (site_id, id, base, objects, bytes, received_bytes, received_at, verified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (site_id, id) DO UPDATE SET verified_at = excluded.verified_at`,
  ).run(r.siteId, r.id, r.base, r.objects, r.bytes, r.receivedBytes, r.receivedAt, r.verifiedAt);
}

export function listSnapshots(db: Db, siteId: string): CatalogueRow[] {
  return (db.prepare(`SELECT * FROM backup_snapshots WHERE site_id = ? ORDER BY id`).all(siteId) as Array<Record<string, unknown>>).map((r) => ({
    siteId: r.site_id as string,
    id: r.id as string,
    base: (r.base as string | null) ?? null,
    objects: r.objects as number,
    bytes: r.bytes as number,
    receivedBytes: r.received_bytes as number,
    receivedAt: r.received_at as string,
    verifiedAt: (r.verified_at as string | null) ?? null,
    damaged: (r.damaged as string | null) ?? null,
  }));
}

export function markVerified(db: Db, siteId: string, ids: string[], at: string): void {
  const st = db.prepare(`UPDATE backup_snapshots SET verified_at = ?, damaged = NULL WHERE site_id = ? AND id = ?`);
  db.transaction(() => ids.forEach((id) => st.run(at, siteId, id)))();
}

/** Snapshot id → what is wrong with it; verified_at keeps the last time it was found whole. */
export function markDamaged(db: Db, siteId: string, damaged: Map<string, string>): void {
  const st = db.prepare(`UPDATE backup_snapshots SET damaged = ? WHERE site_id = ? AND id = ?`);
  db.transaction(() => damaged.forEach((why, id) => st.run(why, siteId, id)))();
}

export function removeSnapshots(db: Db, siteId: string, ids: string[]): void {
  const st = db.prepare(`DELETE FROM backup_snapshots WHERE site_id = ? AND id = ?`);
  db.transaction(() => ids.forEach((id) => st.run(siteId, id)))();
}

export function saveEscrow(db: Db, siteId: string, keyId: string, sealed: string, at: string): void {
  db.prepare(
    `INSERT INTO backup_escrow (site_id, key_id, sealed, deposited_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (site_id) DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed, deposited_at = excluded.deposited_at`,
  ).run(siteId, keyId, sealed, at);
}

export function getEscrow(db: Db, siteId: string): { keyId: string; sealed: string; depositedAt: string } | null {
  const r = db.prepare(`SELECT key_id, sealed, deposited_at FROM backup_escrow WHERE site_id = ?`).get(siteId) as Record<string, string> | undefined;
  return r ? { keyId: r.key_id!, sealed: r.sealed!, depositedAt: r.deposited_at! } : null;
}
