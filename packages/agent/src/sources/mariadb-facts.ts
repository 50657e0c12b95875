/**
 * Row counts from the MariaDB server itself at the same point in time as the dump: the fact that a
 * dump which lost rows cannot agree with (counts taken from the dump stream always agree with it).
 *
 * mariadb-dump --single-transaction reads in its own consistent snapshot, which no other connection
 * can share. So, as mariadb-dump --master-data does for the binlog position: a second connection
 * takes FLUSH TABLES WITH READ LOCK and opens its own consistent snapshot, the dump starts, and the
 * lock is released as soon as the dump writes its first table (mariadb-dump opens its transaction
 * before that). No write can commit while both snapshots are opened, so they are the same state; the
 * counts are then taken in the second connection's snapshot while the dump runs. Writers wait only
 * for the dump to connect (well under a second); the lock is never held longer than HOLD_MAX_MS, nor
 * waited for longer than lock_wait_timeout (a long query running). Without the RELOAD right, or when
 * the lock cannot be had, the dump goes on without these counts (the manifest then lacks sourceTables).
 * InnoDB tables only are exact: a MyISAM table is not in any snapshot.
 */
import { spawn } from 'node:child_process';
import { Transform } from 'node:stream';
import { mariadbArgs, myIdent, sqlString, type DbConnection } from './connection.js';
import { query } from './sql-cli.js';

const HOLD_MAX_MS = 30_000;
const MARK = Buffer.from('\n-- Table structure for table ');

export interface SourceCounts {
  /** Pass-through stage on the dump stream: releases the lock at the dump's first table. */
  stage: Transform;
  /** The counts, or null (with why) when they could not be taken consistently. */
  counts: Promise<{ tables: Record<string, number> } | { error: string }>;
}

/** Takes the lock and the snapshot; resolves once both are held (or with null and the reason). */
export async function holdSnapshotForCounts(conn: DbConnection, lockWaitSeconds = 10): Promise<SourceCounts | { error: string }> {
  let tables: string[];
  try {
    tables = (await query('mariadb', conn, `SELECT table_name FROM information_schema.tables WHERE table_schema = ${sqlString(conn.database)} AND table_type = 'BASE TABLE' ORDER BY table_name`, null)).map((r) => r[0]!);
  } catch (err) {
    return { error: (err as Error).message };
  }
  const a = mariadbArgs(conn);
  const child = spawn('mariadb', [...a.args, '--batch', '--skip-column-names', '--unbuffered', `--database=${conn.database}`], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...a.env } });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  child.stdin.on('error', () => undefined);
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  void exited.then(() => {
    a.cleanup();
    for (const w of waiters.splice(0)) w();
  });
  const lineSeen = (line: string, timeoutMs: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const check = () => {
        if (out.split('\n').includes(line)) return clearTimeout(timer), resolve(true);
        if (child.exitCode !== null || child.signalCode !== null) return clearTimeout(timer), resolve(false);
        waiters.push(check);
      };
      check();
    });
  const why = () => err.trim().split('\n').slice(-1)[0] || 'the mariadb client stopped';
  child.stdin.write(
    `SET SESSION lock_wait_timeout = ${lockWaitSeconds}; FLUSH TABLES WITH READ LOCK; SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ; START TRANSACTION WITH CONSISTENT SNAPSHOT; SELECT '@@locked';\n`,
  );
  if (!(await lineSeen('@@locked', (lockWaitSeconds + 10) * 1000))) {
    child.kill('SIGTERM');
    return { error: `could not take a consistent snapshot for the row counts: ${why()}` };
  }
  let released = false;
  let consistent = true;
  const release = () => {
    if (released) return;
    released = true;
    clearTimeout(holdTimer);
    const counts = tables.length ? `${tables.map((t, i) => `SELECT ${i}, COUNT(*) FROM ${myIdent(t)}`).join(' UNION ALL ')};` : '';
    child.stdin.end(`UNLOCK TABLES; SELECT '@@counts'; ${counts} COMMIT; SELECT '@@end';\n`);
  };
  // Never keep the application's writers waiting long: past this the counts are not taken as facts.
  const holdTimer = setTimeout(() => {
    consistent = false;
    release();
  }, HOLD_MAX_MS);
  let tail = Buffer.alloc(0);
  const stage = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!released) {
        const look = Buffer.concat([tail, chunk]);
        if (look.includes(MARK)) release();
        else tail = Buffer.from(look.subarray(Math.max(0, look.length - MARK.length)));
      }
      cb(null, chunk);
    },
    flush(cb) {
      release();
      cb();
    },
    destroy(e, cb) {
      release();
      cb(e);
    },
  });
  const counts = (async () => {
    if (!(await lineSeen('@@end', 24 * 3_600_000))) return { error: `the row counts failed: ${why()}` };
    await exited;
    if (!consistent) return { error: `the dump did not start within ${HOLD_MAX_MS / 1000} s of the lock; row counts not taken as facts` };
    const lines = out.split('\n');
    const from = lines.indexOf('@@counts');
    const result: Record<string, number> = {};
    for (const l of lines.slice(from + 1, lines.indexOf('@@end'))) {
      const [i, n] = l.split('\t');
      if (i !== undefined && n !== undefined && tables[Number(i)] !== undefined) result[tables[Number(i)]!] = Number(n);
    }
    return Object.keys(result).length === tables.length ? { tables: result } : { error: 'the row counts were incomplete' };
  })();
  return { stage, counts };
}
