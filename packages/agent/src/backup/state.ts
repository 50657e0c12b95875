/**
 * The backup bookkeeping the repositories themselves do not hold: how long each backup took (the
 * power module's final-backup estimate), the last failure per source, the USB disks this site knows,
 * and which location holds which snapshot. One small SQLite file (WAL) in dataDir, shared by the
 * running agent and the CLI verbs (`backup`, `disk list`, `disk eject`).
 */
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDurableSqlite } from '../durable-sqlite.js';
import type { AgentConfig } from '@sentinela/shared';

export function backupStatePath(config: AgentConfig): string {
  return join(config.dataDir, 'backups.db');
}

export interface RunRecord {
  source: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  ok: boolean;
  snapshotId: string | null;
  contentBytes: number | null;
  storedBytes: number | null;
  error: string | null;
}

export interface DiskRecord {
  id: string;
  label: string;
  site: string;
  createdAt: string;
  lastAttachedAt: string | null;
  lastPath: string | null;
  lastCopyAt: string | null;
  lastError: string | null;
}

export interface HeldRecord {
  location: string;
  snapshotId: string;
  source: string;
  copiedAt: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY, source TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
  duration_ms INTEGER NOT NULL, ok INTEGER NOT NULL, snapshot_id TEXT, content_bytes INTEGER, stored_bytes INTEGER, error TEXT);
CREATE INDEX IF NOT EXISTS runs_source ON runs(source, id);
CREATE TABLE IF NOT EXISTS disks (
  id TEXT PRIMARY KEY, label TEXT NOT NULL, site TEXT NOT NULL, created_at TEXT NOT NULL,
  last_attached_at TEXT, last_path TEXT, last_copy_at TEXT, last_error TEXT);
-- location: 'usb:<diskId>' or 'peer'. state: 'present' (copied and read back) or 'forgotten' (removed there by retention: not copied again).
CREATE TABLE IF NOT EXISTS held (
  location TEXT NOT NULL, snapshot_id TEXT NOT NULL, source TEXT NOT NULL, copied_at TEXT NOT NULL, state TEXT NOT NULL,
  PRIMARY KEY (location, snapshot_id));
-- A copy in progress (pid of the process doing it) and eject requests: how \`disk eject\` talks to the running agent.
CREATE TABLE IF NOT EXISTS copying (location TEXT PRIMARY KEY, pid INTEGER NOT NULL, started_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS eject (disk_id TEXT PRIMARY KEY, requested_at TEXT NOT NULL, wait INTEGER NOT NULL);
`;

/** Snapshot ids start with their UTC time (YYYYMMDDTHHMMSSZ-…): enough to order and date them without the key. */
export function snapshotTime(id: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z` : new Date(0).toISOString();
}

/** The source name inside a snapshot id (`<time>-<source>-<random>`). */
export function snapshotSource(id: string): string {
  return id.replace(/^\d{8}T\d{6}Z-/, '').replace(/-[a-z0-9]+$/, '');
}

export class BackupState {
  private readonly db: Database.Database;

  private constructor(path: string) {
    this.db = openDurableSqlite(path);
    this.db.exec(SCHEMA);
  }

  static open(path: string): BackupState {
    return new BackupState(path);
  }

  close(): void {
    this.db.close();
  }

  getMeta(key: string): string | null {
    return (this.db.prepare(`SELECT value FROM meta WHERE key = ?`).get(key) as { value: string } | undefined)?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)`).run(key, value);
  }

  recordRun(r: RunRecord): void {
    this.db
      .prepare(
        `INSERT INTO runs (source, started_at, finished_at, duration_ms, ok, snapshot_id, content_bytes, stored_bytes, error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(r.source, r.startedAt, r.finishedAt, r.durationMs, r.ok ? 1 : 0, r.snapshotId, r.contentBytes, r.storedBytes, r.error);
    // Keep a few hundred runs per source: enough for estimates and history, bounded on disk.
    this.db.prepare(`DELETE FROM runs WHERE source = ? AND id NOT IN (SELECT id FROM runs WHERE source = ? ORDER BY id DESC LIMIT 500)`).run(r.source, r.source);
  }

  /** Durations of the last `n` good backups of a source, newest first. */
  recentDurations(source: string, n = 5): number[] {
    return (this.db.prepare(`SELECT duration_ms AS d FROM runs WHERE source = ? AND ok = 1 ORDER BY id DESC LIMIT ?`).all(source, n) as Array<{ d: number }>).map((r) => r.d);
  }

  lastRun(source: string, ok?: boolean): RunRecord | null {
    const row = this.db
      .prepare(`SELECT * FROM runs WHERE source = ? ${ok === undefined ? '' : `AND ok = ${ok ? 1 : 0}`} ORDER BY id DESC LIMIT 1`)
      .get(source) as Record<string, unknown> | undefined;
    return row ? toRun(row) : null;
  }

  /** Failures since the last good backup of the source. */
  failuresInARow(source: string): number {
    const row = this.db
      .prepare(`SELECT COUNT(*) AS n FROM runs WHERE source = ? AND ok = 0 AND id > COALESCE((SELECT MAX(id) FROM runs WHERE source = ? AND ok = 1), 0)`)
      .get(source, source) as { n: number };
    return row.n;
  }

  upsertDisk(d: { id: string; label: string; site: string; createdAt: string }): void {
    this.db
      .prepare(`INSERT INTO disks (id, label, site, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET label = excluded.label`)
      .run(d.id, d.label, d.site, d.createdAt);
  }

  diskAttached(id: string, path: string, at: string): void {
    this.db.prepare(`UPDATE disks SET last_attached_at = ?, last_path = ? WHERE id = ?`).run(at, path, id);
  }

  diskCopied(id: string, at: string, error: string | null): void {
    if (error === null) this.db.prepare(`UPDATE disks SET last_copy_at = ?, last_error = NULL WHERE id = ?`).run(at, id);
    else this.db.prepare(`UPDATE disks SET last_error = ? WHERE id = ?`).run(error, id);
  }

  disks(): DiskRecord[] {
    return (this.db.prepare(`SELECT * FROM disks ORDER BY created_at`).all() as Array<Record<string, unknown>>).map((r) => ({
      id: r.id as string,
      label: r.label as string,
      site: r.site as string,
      createdAt: r.created_at as string,
      lastAttachedAt: (r.last_attached_at as string | null) ?? null,
      lastPath: (r.last_path as string | null) ?? null,
      lastCopyAt: (r.last_copy_at as string | null) ?? null,
      lastError: (r.last_error as string | null) ?? null,
    }));
  }

  /** Sets what a location holds to exactly `ids` (as listed there after a copy), keeping 'forgotten' marks. */
  setHeld(location: string, ids: string[], at: string): void {
    const tx = this.db.transaction(() => {
      this.db.prepare(`DELETE FROM held WHERE location = ? AND state = 'present'`).run(location);
      const ins = this.db.prepare(
        `INSERT INTO held (location, snapshot_id, source, copied_at, state) VALUES (?, ?, ?, ?, 'present')
         ON CONFLICT(location, snapshot_id) DO UPDATE SET state = 'present'`,
      );
      for (const id of ids) ins.run(location, id, snapshotSource(id), at);
    });
    tx();
  }

  markForgotten(location: string, ids: string[], at: string): void {
    const ins = this.db.prepare(
      `INSERT INTO held (location, snapshot_id, source, copied_at, state) VALUES (?, ?, ?, ?, 'forgotten')
       ON CONFLICT(location, snapshot_id) DO UPDATE SET state = 'forgotten'`,
    );
    this.db.transaction(() => ids.forEach((id) => ins.run(location, id, snapshotSource(id), at)))();
  }

  held(location: string, state: 'present' | 'forgotten' = 'present'): HeldRecord[] {
    return (this.db.prepare(`SELECT * FROM held WHERE location = ? AND state = ? ORDER BY snapshot_id`).all(location, state) as Array<Record<string, unknown>>).map((r) => ({
      location: r.location as string,
      snapshotId: r.snapshot_id as string,
      source: r.source as string,
      copiedAt: r.copied_at as string,
    }));
  }

  /** The newest snapshot of `source` present at a location matching `locationLike` (SQL LIKE: 'usb:%', 'peer'). */
  newestHeld(source: string, locationLike: string): HeldRecord | null {
    const r = this.db
      .prepare(`SELECT * FROM held WHERE source = ? AND location LIKE ? AND state = 'present' ORDER BY snapshot_id DESC LIMIT 1`)
      .get(source, locationLike) as Record<string, unknown> | undefined;
    return r ? { location: r.location as string, snapshotId: r.snapshot_id as string, source: r.source as string, copiedAt: r.copied_at as string } : null;
  }

  /** Forgotten marks older than every snapshot the spool still has can go: they can never be asked for again. */
  dropForgottenBefore(location: string, oldestId: string): void {
    this.db.prepare(`DELETE FROM held WHERE location = ? AND state = 'forgotten' AND snapshot_id < ?`).run(location, oldestId);
  }

  startCopying(location: string, at: string): void {
    this.db.prepare(`INSERT OR REPLACE INTO copying (location, pid, started_at) VALUES (?, ?, ?)`).run(location, process.pid, at);
  }

  endCopying(location: string): void {
    this.db.prepare(`DELETE FROM copying WHERE location = ? AND pid = ?`).run(location, process.pid);
  }

  /** The pid copying to `location`, when that process is still alive. */
  copyingPid(location: string): number | null {
    const row = this.db.prepare(`SELECT pid FROM copying WHERE location = ?`).get(location) as { pid: number } | undefined;
    if (!row) return null;
    if (!pidAlive(row.pid)) {
      this.db.prepare(`DELETE FROM copying WHERE location = ? AND pid = ?`).run(location, row.pid);
      return null;
    }
    return row.pid;
  }

  requestEject(diskId: string, wait: boolean, at: string): void {
    this.db.prepare(`INSERT OR REPLACE INTO eject (disk_id, requested_at, wait) VALUES (?, ?, ?)`).run(diskId, at, wait ? 1 : 0);
  }

  ejectRequest(diskId: string): { requestedAt: string; wait: boolean } | null {
    const row = this.db.prepare(`SELECT requested_at, wait FROM eject WHERE disk_id = ?`).get(diskId) as { requested_at: string; wait: number } | undefined;
    return row ? { requestedAt: row.requested_at, wait: row.wait === 1 } : null;
  }

  /** Called when the disk is seen unplugged: the next attach copies again. */
  clearEject(diskId: string): void {
    this.db.prepare(`DELETE FROM eject WHERE disk_id = ?`).run(diskId);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function toRun(row: Record<string, unknown>): RunRecord {
  return {
    source: row.source as string,
    startedAt: row.started_at as string,
    finishedAt: row.finished_at as string,
    durationMs: row.duration_ms as number,
    ok: row.ok === 1,
    snapshotId: (row.snapshot_id as string | null) ?? null,
    contentBytes: (row.content_bytes as number | null) ?? null,
    storedBytes: (row.stored_bytes as number | null) ?? null,
    error: (row.error as string | null) ?? null,
  };
}
