/**
 * A throwaway PostgreSQL server for a drill: initdb on a temporary folder, then `postgres` itself
 * (as pg_ctl would start it, but as our own child, so that its pid is known at once and a leftover
 * can be killed) listening on a unix socket in that folder and on no network address. Durability is
 * off (fsync, full pages): the copy lives for one drill. Or a server configured for drills only.
 *
 * PostgreSQL refuses to run as root. An agent running as root (tests, a hand-run drill) starts it as
 * the `postgres` system user instead; that user cannot enter the agent's private data folder, so the
 * data folder is then a private (0700) folder of that user under the system's temp folder, named in
 * the scratch folder (ELSEWHERE_FILE) so that a leftover is removed all the same.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentConfig, AgentDrillsConfig } from '@sentinela/shared';
import { pgIdent } from '../sources/connection.js';
import { findTool } from '../sources/process.js';
import { query } from '../sources/sql-cli.js';
import { ELSEWHERE_FILE, ELSEWHERE_PREFIX, lowPriority, runningServer, scratchDir, type ScratchServer } from './scratch.js';

/** The scratch server's superuser: `postgres`, the usual owner in a dump (an ALTER … OWNER TO a role the server lacks fails the restore). */
const SUPERUSER = 'postgres';
/** Only names the socket file (.s.PGSQL.5432): the server listens on no TCP port. */
const SOCKET_PORT = 5432;

/** initdb and postgres: on the PATH, else the newest of Debian's /usr/lib/postgresql/<version>/bin. */
function pgTool(name: string): string | undefined {
  if (findTool([name])) return name;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', name))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0]!, 'bin', name) : undefined;
}

/** uid and gid of a system user, from /etc/passwd. */
function systemUser(name: string): { uid: number; gid: number } | null {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) return null;
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

export async function startScratchPostgres(config: AgentConfig): Promise<ScratchServer> {
  const dir = scratchDir(config, 'postgres');
  const initdb = pgTool('initdb');
  const postgres = pgTool('postgres');
  const fail = (why: string): never => {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(why);
  };
  if (!initdb || !postgres) fail('a PostgreSQL drill needs initdb and postgres (package postgresql) to start its scratch server');
  let home = dir;
  let as: { uid: number; gid: number } | null = null;
  if (process.getuid?.() === 0) {
    as = systemUser('postgres');
    if (!as) fail('PostgreSQL does not run as root, and there is no "postgres" system user to run the drill\'s scratch server as');
    home = mkdtempSync(join(tmpdir(), ELSEWHERE_PREFIX));
    writeFileSync(join(dir, ELSEWHERE_FILE), home);
    chownSync(home, as!.uid, as!.gid);
  }
  const data = join(home, 'data');
  const user = as ? { uid: as.uid, gid: as.gid } : {};
  const stopAll = () => {
    if (home !== dir) rmSync(home, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  };
  const inst = spawnSync(initdb!, ['-D', data, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync', '--no-instructions'], { encoding: 'utf8', ...user });
  if (inst.status !== 0) {
    stopAll();
    throw new Error(`initdb failed: ${(inst.stderr || inst.stdout || String(inst.error ?? '')).trim().split('\n').slice(-1)[0]}`);
  }
  const log = openSync(join(dir, 'error.log'), 'a', 0o600);
  const cmd = lowPriority(postgres!, [
    '-D', data,
    '-k', home,
    '-p', String(SOCKET_PORT),
    '-c', 'listen_addresses=',
    '-c', 'unix_socket_permissions=0700',
    '-c', 'fsync=off',
    '-c', 'full_page_writes=off',
    '-c', 'synchronous_commit=off',
    '-c', 'shared_buffers=32MB',
    '-c', 'max_connections=10',
  ]);
  const child: ChildProcess = spawn(cmd.command, cmd.args, { stdio: ['ignore', log, log], ...user });
  closeSync(log);
  // SIGINT: fast shutdown, the copy is thrown away.
  const server = runningServer('PostgreSQL', child, dir, 'SIGINT', stopAll);
  const conn = { socket: home, port: SOCKET_PORT, user: SUPERUSER };
  const version = await server.whenUp(async () => (await query('postgres', { ...conn, database: 'postgres' }, 'SHOW server_version', 'postgres'))[0]?.[0] ?? 'unknown');
  return { conn, shared: false, version, dir, stop: server.stop };
}

/**
 * A PostgreSQL server configured for drills only (drills.scratchPostgres). Databases a killed drill
 * left there (sentinela_drill_*) are dropped first.
 */
export async function configuredScratchPostgres(c: NonNullable<AgentDrillsConfig['scratchPostgres']>): Promise<ScratchServer> {
  const conn = { ...c };
  const version = (await query('postgres', { ...conn, database: 'postgres' }, 'SHOW server_version', 'postgres'))[0]?.[0] ?? 'unknown';
  const old = await query('postgres', { ...conn, database: 'postgres' }, "SELECT datname FROM pg_database WHERE datname LIKE 'sentinela\\_drill\\_%'", 'postgres');
  for (const [name] of old) await query('postgres', { ...conn, database: 'postgres' }, `DROP DATABASE ${pgIdent(name!)} WITH (FORCE)`, 'postgres');
  return { conn, shared: true, version, dir: '', stop: async () => undefined };
}
