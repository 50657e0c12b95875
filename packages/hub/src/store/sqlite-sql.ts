/**
 * The SQL facade (store/sql.ts) over the hub's SQLite connection. Statements come from the
 * per-connection cache (cachedStatement), so a converted caller compiles each text once.
 *
 * A transaction holds the one connection across the awaits inside it: transactions through the
 * facade are queued one after another, and statements run meanwhile through the facade outside
 * one wait for it to end (the connection would otherwise put them inside it).
 */
import type { Db } from './db.js';
import { cachedStatement } from './db.js';
import type { RunResult, Sql, SqlStore, SqlValue } from './sql.js';

class SqliteSql implements SqlStore {
  readonly dialect = 'sqlite' as const;
  /** The end of the last transaction queued: every statement outside one waits for it. */
  private tail: Promise<unknown> = Promise.resolve();
  private inTx = false;

  constructor(
    private readonly db: Db,
    private readonly owned: boolean,
  ) {}

  /** Runs `f` once no transaction holds the connection: checked and run in the same tick. */
  private async when<T>(f: () => T): Promise<T> {
    while (this.inTx) await this.tail;
    return f();
  }

  query<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.when(() => this.queryNow<T>(sql, params));
  }

  one<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.when(() => cachedStatement(this.db, sql).get(...params) as T | undefined);
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
    return this.when(() => ({ changes: cachedStatement(this.db, sql).run(...params).changes }));
  }

  exec(sql: string): Promise<void> {
    return this.when(() => void this.db.exec(sql));
  }

  private queryNow<T>(sql: string, params: readonly SqlValue[]): T[] {
    return cachedStatement(this.db, sql).all(...params) as T[];
  }

  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.inTx = true;
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.inside);
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      } finally {
        this.inTx = false;
      }
    };
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** The handle inside a transaction: straight to the connection, no queueing. */
  private readonly inside: Sql = {
    dialect: 'sqlite',
    query: async <T>(sql: string, params: readonly SqlValue[] = []) => this.queryNow<T>(sql, params),
    one: async <T>(sql: string, params: readonly SqlValue[] = []) => cachedStatement(this.db, sql).get(...params) as T | undefined,
    run: async (sql: string, params: readonly SqlValue[] = []) => ({ changes: cachedStatement(this.db, sql).run(...params).changes }),
    exec: async (sql: string) => void this.db.exec(sql),
    transaction: () => Promise.reject(new Error('nested transactions are not supported')),
  };

  async close(): Promise<void> {
    await this.tail;
    if (this.owned) this.db.close();
  }
}

/**
 * The facade over `db`. `owned`: close() closes the connection too (false when the hub's other,
 * still synchronous, callers share it and the hub closes it itself).
 */
export function sqliteSql(db: Db, owned = false): SqlStore {
  return new SqliteSql(db, owned);
}
