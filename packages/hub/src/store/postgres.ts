/**
 * The SQL facade (store/sql.ts) on PostgreSQL, through `pg` (node-postgres: the standard driver,
 * maintained, pure JavaScript, pooled; no native build to ship in the bundle). Neutral `?`
 * parameters become `$1…$n` once per text (cached). BIGINT and NUMERIC columns come back as JS
 * numbers, as SQLite gives them: the hub's counters and sizes stay far below 2^53.
 */
import pg from 'pg';
import { migrateSql, type SqlStep } from './sql-migrate.js';
import type { RunResult, Sql, SqlStore, SqlValue } from './sql.js';

// int8 (20) and numeric (1700) as numbers, count(*) and sum() included.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

const texts = new Map<string, string>();

/** `?` → `$n`, outside quoted strings; cached per text. */
export function positional(sql: string): string {
  let out = texts.get(sql);
  if (out !== undefined) return out;
  let n = 0;
  let quoted = false;
  out = '';
  for (const ch of sql) {
    if (ch === "'") quoted = !quoted;
    out += ch === '?' && !quoted ? `$${++n}` : ch;
  }
  if (texts.size > 5000) texts.clear();
  texts.set(sql, out);
  return out;
}

type Queryable = pg.Pool | pg.PoolClient;

function on(conn: Queryable, inTx: boolean): Sql {
  const q = async <T>(sql: string, params: readonly SqlValue[] = []): Promise<pg.QueryResult> =>
    conn.query<T & pg.QueryResultRow>(positional(sql), params as unknown[]);
  const self: Sql = {
    dialect: 'postgres',
    query: async <T>(sql: string, params?: readonly SqlValue[]) => (await q<T>(sql, params)).rows as T[],
    one: async <T>(sql: string, params?: readonly SqlValue[]) => (await q<T>(sql, params)).rows[0] as T | undefined,
    run: async (sql: string, params?: readonly SqlValue[]): Promise<RunResult> => ({ changes: (await q(sql, params)).rowCount ?? 0 }),
    exec: async (sql: string) => void (await conn.query(sql)),
    transaction: inTx
      ? () => Promise.reject(new Error('nested transactions are not supported'))
      : async <T>(fn: (tx: Sql) => Promise<T>) => {
          const client = await (conn as pg.Pool).connect();
          try {
            await client.query('BEGIN');
            const result = await fn(on(client, true));
            await client.query('COMMIT');
            return result;
          } catch (err) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw err;
          } finally {
            client.release();
          }
        },
  };
  return self;
}

export interface PostgresOptions {
  /** postgres://user@host:port/database */
  url: string;
  /** Connections in the pool (ingest commits on one, the console's reads on the others). */
  poolSize?: number;
  /** The schema steps to bring the database to (store/sql-schema.ts). */
  steps: readonly SqlStep[];
}

/** Opens the pool and migrates (under an advisory lock: instances starting together migrate once). */
export async function openPostgres(opts: PostgresOptions): Promise<SqlStore> {
  const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 8 });
  // An idle connection the server dropped (a failover) is reported here; the next query opens another.
  pool.on('error', () => undefined);
  const sql = on(pool, false);
  try {
    await migrateSql(sql, opts.steps);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return { ...sql, close: () => pool.end() };
}
