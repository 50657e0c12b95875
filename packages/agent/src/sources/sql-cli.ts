/**
 * Small SQL through the servers' own command-line clients (mariadb, psql): existence checks and row
 * counts for restore, schema and bulk loads for the data generator. No driver dependency, and the
 * same clients a person would use by hand.
 */
import { spawn } from 'node:child_process';
import { pipeline, type Readable, type Transform } from 'node:stream';
import { mariadbArgs, postgresArgs, type DbConnection } from './connection.js';
import { StderrTail, describeExit, exitOf } from './process.js';

export class ClientError extends Error {
  constructor(
    readonly toolOutput: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

export type Dialect = 'mariadb' | 'postgres';

function clientCommand(dialect: Dialect, conn: DbConnection, database: string | null, extra: string[]) {
  if (dialect === 'mariadb') {
    const a = mariadbArgs(conn);
    // --binary-mode: a dump's bytes go to the server as they are (no client-side escapes interpreted).
    return { command: 'mariadb', args: [...a.args, '--batch', '--skip-column-names', '--binary-mode', '--local-infile=1', ...extra, ...(database ? [`--database=${database}`] : [])], env: a.env, cleanup: a.cleanup };
  }
  const a = postgresArgs(conn);
  return { command: 'psql', args: [...a.args, '-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', ...extra, '-d', database ?? 'postgres'], env: a.env, cleanup: a.cleanup };
}

/**
 * Runs the client with `input` on its stdin (through `through`), resolves once it exited 0; rejects
 * with its stderr otherwise. stdout is collected (keep it small) and returned.
 */
export function runClient(dialect: Dialect, conn: DbConnection, database: string | null, opts: { input?: Readable; sql?: string; through?: Transform[]; extraArgs?: string[] }): Promise<string> {
  const extra = [...(opts.extraArgs ?? []), ...(opts.sql !== undefined ? (dialect === 'mariadb' ? ['-e', opts.sql] : ['-c', opts.sql]) : [])];
  const cmd = clientCommand(dialect, conn, database, extra);
  const child = spawn(cmd.command, cmd.args, { stdio: [opts.input ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: { ...process.env, ...cmd.env } });
  const tail = new StderrTail();
  child.stderr!.on('data', (c: Buffer) => tail.push(c));
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exit = exitOf(child).finally(cmd.cleanup);
  const fed = opts.input
    ? new Promise<Error | undefined>((resolve) => pipeline([opts.input!, ...(opts.through ?? []), child.stdin!] as unknown as [Readable, Transform], (err) => resolve(err ?? undefined)))
    : Promise.resolve(undefined);
  return Promise.all([exit, fed]).then(([e, feedErr]) => {
    if (e.code === 0 && !e.spawnError && !feedErr) return out;
    // When the client dies, our write to its stdin fails with EPIPE: its stderr is the real reason.
    if (e.code === 0 && feedErr) throw feedErr;
    if (feedErr && (feedErr as NodeJS.ErrnoException).code !== 'EPIPE' && !tail.text) throw feedErr;
    throw new ClientError(tail.text, describeExit(cmd.command, e, tail.text));
  });
}

/** Rows of a query's result, tab-separated fields. */
export async function query(dialect: Dialect, conn: DbConnection, sql: string, database: string | null = conn.database): Promise<string[][]> {
  const out = await runClient(dialect, conn, database, { sql });
  return out
    .split('\n')
    .filter((l) => l.length)
    .map((l) => l.split('\t'));
}
