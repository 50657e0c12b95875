/**
 * Durable commits without blocking the event loop.
 *
 * With `synchronous=FULL` in WAL mode, SQLite's only extra over NORMAL is an fsync of the WAL file at
 * every commit (https://sqlite.org/pragma.html#pragma_synchronous). better-sqlite3 is synchronous,
 * so that fsync (milliseconds on a real disk) stalls the whole hub: no socket is read, no message
 * validated, no ack sent. So ingest commits its batches with NORMAL, and before it acks them it
 * fdatasyncs the WAL file itself on libuv's thread pool, exactly the call SQLite would have made
 * (SQLite uses fdatasync on Linux). An ack still means what it meant: every row it names was in a
 * commit whose WAL frames reached the disk. Meanwhile the hub keeps reading, validating and
 * committing the next batches, whose acks wait for the next sync: group commit that grows with load.
 *
 * Other writers on the connection (API, CLI) keep FULL: ingest switches to NORMAL only around its
 * own transaction. When a checkpoint replaces the WAL file (another connection closing last, say),
 * the frames of the old file were first copied into the database and synced by that checkpoint
 * (NORMAL syncs both at a checkpoint). A sync notices that afterwards, on the thread pool (the
 * file it synced has no name any more), and syncs the new file: no path lookup on the event loop
 * for every sync.
 */
import { closeSync, fdatasync, fstat, openSync } from 'node:fs';
import type { Db } from '../store/db.js';

export class WalSync {
  private fd: number | null = null;
  private readonly path: string;

  private constructor(private readonly db: Db) {
    this.path = `${db.name}-wal`;
  }

  /** A WalSync when the connection is a WAL database at synchronous=FULL (2) or EXTRA (3); null otherwise. */
  static for(db: Db): WalSync | null {
    if (db.memory) return null;
    const mode = String(db.pragma('journal_mode', { simple: true })).toLowerCase();
    const sync = Number(db.pragma('synchronous', { simple: true }));
    return mode === 'wal' && sync >= 2 ? new WalSync(db) : null;
  }

  /** Runs `fn` (a transaction) with synchronous=NORMAL: it commits without waiting for the disk. */
  commitWithoutSync<T>(fn: () => T): T {
    this.db.pragma('synchronous = NORMAL');
    try {
      return fn();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  /** Resolves when everything committed before the call is on disk; rejects if the sync failed. */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => this.syncOnce(resolve, reject, 0));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private syncOnce(resolve: () => void, reject: (err: Error) => void, attempt: number): void {
    let fd: number;
    try {
      fd = this.fd ?? (this.fd = openSync(this.path, 'r+'));
    } catch (err) {
      // No WAL file: nothing was written through it (or a checkpoint removed it after syncing).
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') resolve();
      else reject(err as Error);
      return;
    }
    fdatasync(fd, (err) => {
      if (err) return reject(err);
      fstat(fd, (err, st) => {
        if (err) return reject(err);
        if (st.nlink > 0) return resolve();
        // The file we synced was removed: the commits since went to a new one, sync that.
        if (this.fd === fd) this.close();
        if (attempt >= 3) return reject(new Error(`${this.path} keeps being replaced while syncing`));
        this.syncOnce(resolve, reject, attempt + 1);
      });
    });
  }
}
