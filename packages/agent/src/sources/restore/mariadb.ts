/**
 * A mariadb-dump stream into a database through the `mariadb` client. A new database by default;
 * an existing one that holds tables only with `force`, which replaces it (drop, create) so that the
 * result is exactly the snapshot. Rows are re-batched into multi-row INSERTs on the way in.
 */
import type { Readable } from 'node:stream';
import { myIdent, sqlString, type DbConnection } from '../connection.js';
import { query, runClient } from '../sql-cli.js';
import { InsertRebatcher } from './rebatch.js';
import { RestoreRefused, byteCounter, compareTables, type RestoreOptions, type RestoreReport } from './report.js';

async function tableNames(conn: DbConnection, database: string): Promise<string[]> {
  const rows = await query('mariadb', conn, `SELECT table_name FROM information_schema.tables WHERE table_schema = ${sqlString(database)} AND table_type = 'BASE TABLE'`, null);
  return rows.map((r) => r[0]!);
}

async function databaseExists(conn: DbConnection, database: string): Promise<boolean> {
  return (await query('mariadb', conn, `SELECT 1 FROM information_schema.schemata WHERE schema_name = ${sqlString(database)}`, null)).length > 0;
}

/** Row counts of `names` in `database` (exact COUNT(*), not the statistics' estimates). */
export async function mariadbRowCounts(conn: DbConnection, database: string, names: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (!names.length) return out;
  const sql = names.map((n) => `SELECT ${sqlString(n)}, COUNT(*) FROM ${myIdent(n)}`).join(' UNION ALL ');
  for (const [name, n] of await query('mariadb', conn, sql, database)) out[name!] = Number(n);
  return out;
}

export async function restoreMariadb(content: Readable, conn: DbConnection, opts: RestoreOptions = {}): Promise<RestoreReport> {
  const db = conn.database;
  if (await databaseExists(conn, db)) {
    const existing = await tableNames(conn, db);
    if (existing.length && !opts.force) {
      content.destroy();
      throw new RestoreRefused(`database ${db} already exists and holds ${existing.length} tables; restore into a new database, or use force to replace it`);
    }
    if (opts.force) await query('mariadb', conn, `DROP DATABASE ${myIdent(db)}`, null);
  }
  await query('mariadb', conn, `CREATE DATABASE IF NOT EXISTS ${myIdent(db)}`, null);
  const counter = byteCounter(opts.onProgress);
  await runClient('mariadb', conn, db, { input: content, through: [counter.stage, new InsertRebatcher()] });
  const present = new Set(await tableNames(conn, db));
  const found = await mariadbRowCounts(conn, db, Object.keys(opts.expectedTables ?? {}).filter((t) => present.has(t)));
  const cmp = compareTables(opts.expectedTables, found);
  return { target: `mariadb://${conn.host ?? '127.0.0.1'}${conn.port ? `:${conn.port}` : ''}/${db}`, bytes: counter.bytes(), ...cmp, ok: cmp.problems.length === 0 };
}
