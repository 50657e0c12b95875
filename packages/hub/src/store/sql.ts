/**
 * The hub's store as an asynchronous SQL facade, the same for SQLite (embedded, the default) and
 * PostgreSQL (several hub instances on one database, issue 20). Callers write dialect-neutral SQL
 * with positional `?` parameters; what differs between the two engines is said through `dialect`
 * (store/dialect.ts has the few spellings that differ).
 *
 * Why async for both: PostgreSQL answers over a socket, so a caller that must run on it cannot be
 * synchronous; SQLite's implementation answers at once (its promises are already settled), keeping
 * its prepared-statement cache, so a converted caller costs SQLite little.
 */
export type Dialect = 'sqlite' | 'postgres';

/**
 * A value bound to a `?`: numbers, text, bytes, null (booleans as 0/1, times as ISO text); an
 * array only on PostgreSQL (`?::text[]`, for set statements such as unnest).
 */
export type SqlValue = string | number | bigint | Buffer | null | ReadonlyArray<string | number | null>;

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

export interface Sql {
  readonly dialect: Dialect;
  /** Every row of a query. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row, or undefined. */
  one<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A statement that returns no rows. */
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
  /** Several statements without parameters (schema steps). */
  exec(sql: string): Promise<void>;
  /**
   * `fn` inside one transaction: committed when it resolves, rolled back when it throws. `tx` is
   * the handle to use inside (on PostgreSQL it is the transaction's own connection).
   */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
}

/** A store the hub opened and must close. */
export interface SqlStore extends Sql {
  close(): Promise<void>;
}
