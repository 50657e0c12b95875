/**
 * Scratch places a drill restores into, all under <dataDir>/drills/scratch/, never production: a
 * throwaway MariaDB server the drill starts itself on a temporary data folder, with a unix socket
 * and no network (PostgreSQL: scratch-postgres.ts); temporary folders for files and SQLite.
 * Everything is removed afterwards, and what a SIGKILL or a power cut left behind is removed at the
 * next start (removeLeftovers).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import type { AgentConfig } from '@sentinela/shared';
import { query } from '../sources/sql-cli.js';
import type { AgentDrillsConfig } from '@sentinela/shared';
import { myIdent, type DbConnection } from '../sources/connection.js';
import { findTool } from '../sources/process.js';

export function scratchRoot(config: AgentConfig): string {
  return join(config.dataDir, 'drills', 'scratch');
}

/** A fresh scratch folder (mode 0700); a `pid` file in it names the server to kill if it is left over. */
export function scratchDir(config: AgentConfig, prefix: string): string {
  const root = scratchRoot(config);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  return mkdtempSync(join(root, `${prefix}-`));
}

/**
 * A scratch server's data folder outside the scratch root (PostgreSQL run by root: see
 * scratch-postgres.ts) is named in this file of its scratch folder, so that a leftover is found.
 */
export const ELSEWHERE_FILE = 'data-folder';
/** The prefix of such an outside folder: removeLeftovers removes nothing else it is pointed to. */
export const ELSEWHERE_PREFIX = 'sentinela-drill-';

/** Removes every leftover scratch folder, killing a scratch server still running from it. Returns what was removed. */
export function removeLeftovers(config: AgentConfig): string[] {
  const root = scratchRoot(config);
  if (!existsSync(root)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    const outside = existsSync(join(dir, ELSEWHERE_FILE)) ? readFileSync(join(dir, ELSEWHERE_FILE), 'utf8').trim() : '';
    const elsewhere = isAbsolute(outside) && basename(outside).startsWith(ELSEWHERE_PREFIX) ? outside : null;
    const pidFile = join(dir, 'server.pid');
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      // Only a process whose command line names this folder: a recycled pid is left alone.
      const cmdline = pid > 0 && existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
      if (cmdline.includes(elsewhere ?? dir)) process.kill(pid, 'SIGKILL');
    }
    if (elsewhere) rmSync(elsewhere, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/** Runs a child at the lowest CPU and I/O priority (a drill must never slow the clinical system). */
export function lowPriority(command: string, args: string[]): { command: string; args: string[] } {
  const ionice = findTool(['ionice']);
  const nice = findTool(['nice']);
  let c = { command, args };
  if (ionice) c = { command: ionice, args: ['-c3', c.command, ...c.args] };
  if (nice) c = { command: nice, args: ['-n19', c.command, ...c.args] };
  return c;
}

/** A database server a drill restores into: a throwaway one it started, or a configured one. */
export interface ScratchServer {
  /** How to reach it (a unix socket for a throwaway server). */
  conn: Omit<DbConnection, 'database'>;
  /** A configured server kept for drills: each drill's database is dropped after it, the server stays. */
  shared: boolean;
  /** The server's own version (SELECT VERSION()), for the drill report's environment. */
  version: string;
  dir: string;
  stop(): Promise<void>;
}

/** mariadb-install-db on a temporary folder, then mariadbd with --skip-networking on a socket there. */
export async function startScratchMariadb(config: AgentConfig): Promise<ScratchServer> {
  const dir = scratchDir(config, 'mariadb');
  const data = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const server = findTool(['mariadbd', 'mysqld']) ?? (existsSync('/usr/sbin/mariadbd') ? '/usr/sbin/mariadbd' : undefined);
  const install = findTool(['mariadb-install-db', 'mysql_install_db']);
  if (!server || !install) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error('a MariaDB drill needs mariadb-install-db and mariadbd (package mariadb-server) to start its scratch server');
  }
  const user = userInfo().username;
  const inst = spawnSync(install, ['--no-defaults', `--datadir=${data}`, `--user=${user}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { encoding: 'utf8' });
  if (inst.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed: ${(inst.stderr || inst.stdout).trim().split('\n').slice(-1)[0]}`);
  }
  const cmd = lowPriority(server, [
    '--no-defaults',
    `--datadir=${data}`,
    `--socket=${socket}`,
    `--pid-file=${join(dir, 'mariadbd.pid')}`,
    `--user=${user}`,
    '--skip-networking',
    '--skip-grant-tables',
    '--skip-log-bin',
    '--innodb-buffer-pool-size=64M',
    '--innodb-flush-log-at-trx-commit=0',
    `--log-error=${join(dir, 'error.log')}`,
  ]);
  const child: ChildProcess = spawn(cmd.command, cmd.args, { stdio: 'ignore', detached: false });
  const running = runningServer('MariaDB', child, dir, 'SIGTERM', () => rmSync(dir, { recursive: true, force: true }));
  const version = await running.whenUp(async () => (await query('mariadb', { socket, database: 'mysql' }, 'SELECT VERSION()', null))[0]?.[0] ?? 'unknown');
  return { conn: { socket }, shared: false, version, dir, stop: running.stop };
}

/**
 * A scratch server started as our child: its pid written for removeLeftovers, `stop` (`signal`,
 * SIGKILL after 20 s, then `cleanup`), and `whenUp`, which asks `version` until the server answers
 * (60 s at most) and otherwise stops it and says why from the last line of its error.log.
 */
export function runningServer(what: string, child: ChildProcess, dir: string, signal: NodeJS.Signals, cleanup: () => void) {
  writeFileSync(join(dir, 'server.pid'), String(child.pid));
  let exited = false;
  child.on('exit', () => (exited = true));
  const stop = async () => {
    if (!exited) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    }
    cleanup();
  };
  const whenUp = async (version: () => Promise<string>): Promise<string> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        return await version();
      } catch (err) {
        if (exited || Date.now() > deadline) {
          const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8').trim().split('\n').slice(-1)[0] : '';
          await stop();
          throw new Error(`the scratch ${what} server did not start: ${log || (err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };
  return { stop, whenUp };
}

/**
 * A server configured for drills only (drills.scratchMariadb). Databases a killed drill left there
 * (sentinela_drill_*) are dropped first, as the scratch folders are.
 */
export async function configuredScratchMariadb(c: NonNullable<AgentDrillsConfig['scratchMariadb']>): Promise<ScratchServer> {
  const conn = { ...c };
  const version = (await query('mariadb', { ...conn, database: 'mysql' }, 'SELECT VERSION()', null))[0]?.[0] ?? 'unknown';
  const old = await query('mariadb', { ...conn, database: 'mysql' }, "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'sentinela\\_drill\\_%'", null);
  for (const [name] of old) await query('mariadb', { ...conn, database: 'mysql' }, `DROP DATABASE ${myIdent(name!)}`, null);
  return { conn, shared: true, version, dir: '', stop: async () => undefined };
}
