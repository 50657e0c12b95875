/**
 * WAL checkpoints off the event loop.
 *
 * SQLite checkpoints automatically in the connection whose commit pushed the WAL past 1,000 pages,
 * inside that commit: it copies the frames into the database file and fsyncs it, on the hub's only
 * thread, while no socket is read. Under ingest load that was most of a commit's time. So a worker
 * thread with a connection of its own runs PASSIVE checkpoints (they never block a writer), and
 * the hub's connection checkpoints itself only if the worker falls far behind.
 *
 * Durability does not change: a checkpoint only copies committed frames into the database and
 * syncs it before the WAL may be reused (see wal-sync.ts).
 */
import { createRequire } from 'node:module';
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Db } from '../store/db.js';

/** Pages of WAL between two checkpoints; SQLite's own default threshold. */
const WAL_PAGES = 1000;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
const every = workerData.intervalMs;
let stopped = false;
parentPort.on('message', (m) => { if (m === 'stop') { stopped = true; db.close(); process.exit(0); } });
function tick() {
  if (stopped) return;
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage({ error: err.message }); }
  setTimeout(tick, every);
}
setTimeout(tick, every);
`;

export class Checkpointer {
  private worker: Worker | null = null;
  private exited: Promise<void> = Promise.resolve();
  private readonly walPath: string;

  private constructor(
    private readonly db: Db,
    private readonly intervalMs: number,
    private readonly onError: (message: string) => void,
  ) {
    this.walPath = `${db.name}-wal`;
  }

  /** A checkpointer for a file database in WAL mode; null otherwise (nothing to checkpoint). */
  static for(db: Db, onError: (message: string) => void, intervalMs = 100): Checkpointer | null {
    if (db.memory) return null;
    if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return null;
    return new Checkpointer(db, intervalMs, onError);
  }

  /**
   * After a commit: the worker starts the first time the WAL reaches SQLite's own checkpoint
   * threshold, so a quiet hub (or a test) never starts a thread; until then SQLite checkpoints as usual.
   */
  afterCommit(): void {
    if (this.worker) return;
    let size: number;
    try {
      size = statSync(this.walPath).size;
    } catch {
      return;
    }
    if (size < WAL_PAGES * Number(this.db.pragma('page_size', { simple: true }))) return;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { driver: createRequire(import.meta.url).resolve('better-sqlite3'), path: this.db.name, intervalMs: this.intervalMs },
    });
    this.exited = new Promise<void>((r) => worker.once('exit', () => r()));
    worker.on('message', (m: { error?: string }) => m.error && this.onError(m.error));
    worker.on('error', (err) => this.onError(err.message));
    worker.unref();
    this.worker = worker;
    // The hub's connection checkpoints itself only if the worker falls far behind.
    this.db.pragma(`wal_autocheckpoint = ${WAL_PAGES * 50}`);
  }

  async close(): Promise<void> {
    if (!this.worker) return;
    this.worker.postMessage('stop');
    await this.exited;
  }
}
