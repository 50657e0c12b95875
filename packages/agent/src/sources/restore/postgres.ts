/**
 * A plain pg_dump stream into a database through `psql -v ON_ERROR_STOP=1 --single-transaction`: the
 * first error stops it and nothing half-restored is committed. A new database by default (created
 * from template0, as pg_dump's documentation advises for plain dumps); an existing one that holds
 * tables only with `force`, which drops and re-creates it.
 */
import type { Readable } from 'node:stream';
import { pgIdent, pgString, type DbConnection } from '../connection.js';
import { query, runClient } from '../sql-cli.js';
import { RestoreRefused, byteCounter, compareTables, type RestoreOptions, type RestoreReport } from './report.js';

/** Row counts of the tables named as the dump names them (`patients`, `other."Table"`); absent tables are left out. */
export async function postgresRowCounts(conn: DbConnection, database: string, names: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (!names.length) return out;
  const exists = await query('postgres', conn, names.map((n) => `SELECT ${pgString(n)}, to_regclass(${pgString(n)}) IS NOT NULL`).join(' UNION ALL '), database);
  const present = exists.filter((r) => r[1] === 't').map((r) => r[0]!);
  if (!present.length) return out;
  for (const [name, n] of await query('postgres', conn, present.map((n) => `SELECT ${pgString(n)}, count(*) FROM ${n}`).join(' UNION ALL '), database)) out[name!] = Number(n);
  return out;
}

export async function restorePostgres(content: Readable, conn: DbConnection, opts: RestoreOptions = {}): Promise<RestoreReport> {
  const db = conn.database;
  const exists = (await query('postgres', conn, `SELECT 1 FROM pg_database WHERE datname = ${pgString(db)}`, 'postgres')).length > 0;
  if (exists) {
    const [[tables]] = (await query('postgres', conn, "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')", db)) as [[string]];
    if (Number(tables) > 0 && !opts.force) {
      content.destroy();
      throw new RestoreRefused(`database ${db} already exists and holds ${tables} tables; restore into a new database, or use force to replace it`);
    }
    await query('postgres', conn, `DROP DATABASE ${pgIdent(db)} WITH (FORCE)`, 'postgres');
  }
  await query('postgres', conn, `CREATE DATABASE ${pgIdent(db)} TEMPLATE template0`, 'postgres');
  const counter = byteCounter(opts.onProgress);
  await runClient('postgres', conn, db, { input: content, through: [counter.stage], extraArgs: ['--single-transaction'] });
  const found = await postgresRowCounts(conn, db, Object.keys(opts.expectedTables ?? {}));
  const cmp = compareTables(opts.expectedTables, found);
  return { target: `postgres://${conn.host ?? '127.0.0.1'}${conn.port ? `:${conn.port}` : ''}/${db}`, bytes: counter.bytes(), ...cmp, ok: cmp.problems.length === 0 };
}
