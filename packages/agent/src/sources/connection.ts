/**
 * How the MariaDB and PostgreSQL tools are pointed at a server. The password is read from
 * `passwordFile` and handed over in a private option file (MariaDB) or the environment (PostgreSQL),
 * never on the command line where `ps` would show it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DbConnection {
  host?: string;
  port?: number;
  user?: string;
  /** A file holding the password (mode 0600). */
  passwordFile?: string;
  /**
   * A unix socket instead of host and port, for a drill's scratch server, which has no network:
   * MariaDB takes the socket file, PostgreSQL the folder its socket is in (with `port` naming the file).
   */
  socket?: string;
  database: string;
}

function readPassword(file: string): string {
  return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}

export interface ToolArgs {
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Removes the temporary option file, if one was written. */
  cleanup: () => void;
}

/** Leading arguments for mariadb/mariadb-dump (no database name: callers add it where the tool wants it). */
export function mariadbArgs(c: Omit<DbConnection, 'database'>): ToolArgs {
  const args: string[] = [];
  let cleanup = () => undefined as void;
  if (c.passwordFile) {
    const dir = mkdtempSync(join(tmpdir(), 'sentinela-my-'));
    const file = join(dir, 'client.cnf');
    const pw = readPassword(c.passwordFile).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    writeFileSync(file, `[client]\npassword="${pw}"\n`, { mode: 0o600 });
    // --defaults-extra-file must come first on the command line.
    args.push(`--defaults-extra-file=${file}`);
    cleanup = () => rmSync(dir, { recursive: true, force: true });
  }
  if (c.socket) args.push(`--socket=${c.socket}`);
  else {
    args.push(`--host=${c.host ?? '127.0.0.1'}`);
    if (c.port) args.push(`--port=${c.port}`);
  }
  if (c.user) args.push(`--user=${c.user}`);
  return { args, env: {}, cleanup };
}

/** Leading arguments for pg_dump/psql; `-w` so a missing password fails at once instead of prompting. */
export function postgresArgs(c: Omit<DbConnection, 'database'>): ToolArgs {
  const args = ['-w', '-h', c.socket ?? c.host ?? '127.0.0.1'];
  if (c.port) args.push('-p', String(c.port));
  if (c.user) args.push('-U', c.user);
  const env: NodeJS.ProcessEnv = c.passwordFile ? { PGPASSWORD: readPassword(c.passwordFile) } : {};
  return { args, env, cleanup: () => undefined };
}

/** `name` as a MariaDB identifier. */
export function myIdent(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

/** `name` as a PostgreSQL identifier. */
export function pgIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export function sqlString(value: string): string {
  return "'" + value.replace(/\\/g, '\\\\').replace(/'/g, "''") + "'";
}

export function pgString(value: string): string {
  return "'" + value.replace(/'/g, "''") + "'";
}
