/**
 * The backup user's rights, checked on the real server as that user: what the dump needs (a right
 * missing makes mariadb-dump fail, or worse, silently leave routines or triggers out) and nothing
 * that could change the data. The grants are documented in docs/operations.md ("Database rights").
 */
import { doctor } from '@sentinela/shared';
import type { DbConnection } from '../sources/connection.js';
import { query } from '../sources/sql-cli.js';
import { sqlString } from '../sources/connection.js';

const { ok, warn, fail } = doctor;

/** What mariadb-dump with MARIADB_DUMP_FLAGS needs on the database (--single-transaction: no LOCK TABLES). */
export const MARIADB_DUMP_RIGHTS = ['SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT'] as const;
/** Rights that let the backup user change data or the server: more than a backup needs. */
const MARIADB_WRITE_RIGHTS = ['INSERT', 'UPDATE', 'DELETE', 'DROP', 'ALTER', 'CREATE', 'SUPER', 'GRANT OPTION', 'FILE', 'SHUTDOWN'];

/** The documented grants, for the fix text. */
export function mariadbGrantSql(database: string, user: string): string {
  return `GRANT ${MARIADB_DUMP_RIGHTS.join(', ')} ON \`${database}\`.* TO '${user}'@'HOST'; GRANT SELECT ON mysql.proc TO '${user}'@'HOST'; GRANT RELOAD ON *.* TO '${user}'@'HOST';`;
}

export function postgresGrantSql(user: string): string {
  return `GRANT pg_read_all_data TO ${user};  (PostgreSQL 14+; before: GRANT USAGE ON SCHEMA s TO ${user}; GRANT SELECT ON ALL TABLES IN SCHEMA s TO ${user}; GRANT SELECT ON ALL SEQUENCES IN SCHEMA s TO ${user}; ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT SELECT ON TABLES TO ${user})`;
}

export interface RightsVerdict {
  missing: string[];
  excess: string[];
  /** Rights the dump works without, but a check is then lost (MariaDB RELOAD: the drill's lost-rows counts). */
  degraded?: string[];
}

/** The current user's rights on `database`, from information_schema (it shows a user only its own grants; root sees all, hence the GRANTEE filter). */
export async function mariadbRights(conn: DbConnection): Promise<RightsVerdict> {
  const me = `CONCAT("'", SUBSTRING_INDEX(CURRENT_USER(), '@', 1), "'@'", SUBSTRING_INDEX(CURRENT_USER(), '@', -1), "'")`;
  const db = sqlString(conn.database);
  const rows = await query(
    'mariadb',
    conn,
    `SELECT 'global', PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ${me}
     UNION ALL SELECT 'db', PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ${me} AND ${db} LIKE TABLE_SCHEMA
     UNION ALL SELECT 'mysql', PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ${me} AND TABLE_SCHEMA = 'mysql'
     UNION ALL SELECT 'proc', PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ${me} AND TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'proc'`,
    null,
  );
  const on = (scope: string) => new Set(rows.filter((r) => r[0] === scope).map((r) => r[1]!));
  const global = on('global');
  const have = new Set([...global, ...on('db')]);
  const missing: string[] = MARIADB_DUMP_RIGHTS.filter((r) => !have.has(r)).map((r) => `${r} on ${conn.database}.*`);
  // --routines reads mysql.proc; without it mariadb-dump leaves the routines out and still exits 0.
  if (!global.has('SELECT') && !on('mysql').has('SELECT') && !on('proc').has('SELECT') && !have.has('SHOW CREATE ROUTINE')) missing.push('SELECT on mysql.proc (for the routines)');
  const excess = MARIADB_WRITE_RIGHTS.filter((r) => have.has(r));
  // FLUSH TABLES WITH READ LOCK needs RELOAD (global only): without it the backup takes no row counts
  // from the server itself (mariadb-facts.ts), and a drill cannot tell a dump that lost rows.
  const degraded = global.has('RELOAD') ? [] : ['RELOAD'];
  return { missing, excess, degraded };
}

/** What the current role cannot read in `database`, and whether it can write. */
export async function postgresRights(conn: DbConnection): Promise<RightsVerdict> {
  const [row] = await query(
    'postgres',
    conn,
    `WITH rel AS (
       SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'S', 'v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)')
     SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
       coalesce((SELECT string_agg(quote_ident(nspname), ' ') FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_(toast|temp)' AND NOT has_schema_privilege(oid, 'USAGE')), ''),
       (SELECT count(*) FROM rel WHERE NOT has_table_privilege(oid, 'SELECT')),
       coalesce((SELECT string_agg(name, ' ') FROM (SELECT name FROM rel WHERE NOT has_table_privilege(oid, 'SELECT') ORDER BY name LIMIT 5) x), ''),
       coalesce((SELECT string_agg(name, ' ') FROM (SELECT name FROM rel WHERE has_table_privilege(oid, 'INSERT, UPDATE, DELETE, TRUNCATE') ORDER BY name LIMIT 3) x), '')`,
  );
  const [superuser, schemas, unreadable, someUnreadable, writable] = row ?? [];
  const missing: string[] = [];
  if (schemas) missing.push(`USAGE on schema ${schemas.split(' ').join(', ')}`);
  if (Number(unreadable) > 0) missing.push(`SELECT on ${unreadable} tables or sequences (${someUnreadable!.split(' ').join(', ')}${Number(unreadable) > 5 ? ', …' : ''})`);
  const excess: string[] = [];
  if (superuser === 't') excess.push('superuser');
  else if (writable) excess.push(`INSERT/UPDATE/DELETE on ${writable.split(' ').join(', ')}`);
  return { missing, excess };
}

/** The doctor finding for a database source's rights. */
export async function dbRightsFinding(id: string, kind: 'mariadb' | 'postgres', conn: DbConnection, sourceName: string): Promise<doctor.Finding> {
  const user = conn.user ?? '(default user)';
  let v: RightsVerdict;
  try {
    v = kind === 'mariadb' ? await mariadbRights(conn) : await postgresRights(conn);
  } catch (err) {
    // The login check above FAILs already when the server or the login is the problem.
    return warn(id, `${kind} source ${sourceName}: the rights of ${user} not checked: ${(err as Error).message.split('\n')[0]}`, {
      pt: 'Confirme o início de sessão (verificação anterior) e que a base existe.',
      en: 'Check the login (the check above) and that the database exists.',
    });
  }
  const grant = kind === 'mariadb' ? mariadbGrantSql(conn.database, conn.user ?? 'backup') : postgresGrantSql(conn.user ?? 'backup');
  if (v.missing.length)
    return fail(id, `${kind} source ${sourceName}: ${user} lacks ${v.missing.join('; ')}: the dump would fail or leave things out`, {
      pt: `Como administrador da base de dados: ${grant}`,
      en: `As the database's admin: ${grant}`,
    });
  if (v.degraded?.length)
    return warn(id, `${kind} source ${sourceName}: ${user} lacks ${v.degraded.join(', ')}: backups work, but without the row counts taken from the server at the dump's moment (FLUSH TABLES WITH READ LOCK needs RELOAD), a restore drill cannot detect a dump that lost rows`, {
      pt: `Como administrador da base de dados: GRANT RELOAD ON *.* TO '${conn.user ?? 'backup'}'@'HOST'; (o bloqueio dura só até o dump abrir a sua transação, menos de um segundo)`,
      en: `As the database's admin: GRANT RELOAD ON *.* TO '${conn.user ?? 'backup'}'@'HOST'; (the lock is held only until the dump opens its transaction, under a second)`,
    });
  if (v.excess.length)
    return warn(id, `${kind} source ${sourceName}: ${user} can read everything the dump needs, but holds more than a backup needs: ${v.excess.join(', ')}`, {
      pt: `Use um utilizador só de leitura para as cópias (docs/operations.md, «Database rights»): ${grant}`,
      en: `Use a read-only user for backups (docs/operations.md, "Database rights"): ${grant}`,
    });
  return ok(id, `${kind} source ${sourceName}: ${user} holds exactly the read rights the dump needs on ${conn.database}`);
}
