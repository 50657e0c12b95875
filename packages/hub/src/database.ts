/** The hub database: opened with the store's schema steps and every module's, in order. */
import type { HubConfig } from '@sentinela/shared';
import { openStore, type Db, type OpenDbOptions } from './store/db.js';
import { openPostgres } from './store/postgres.js';
import { SQL_STEPS } from './store/sql-schema.js';
import { sqliteSql } from './store/sqlite-sql.js';
import type { SqlStore } from './store/sql.js';
import { orderSteps, STORE_MIGRATIONS, type Migration } from './store/migrations.js';
import { HUB_MODULES } from './modules.js';

/** The whole schema in user_version order (a plain array: test/install.test.ts appends the next release's step). */
export const MIGRATIONS: Migration[] = orderSteps([...STORE_MIGRATIONS, ...HUB_MODULES.flatMap((m) => m.migrations ?? [])]);

export function openDb(dataDir: string, opts: OpenDbOptions & { migrations?: readonly Migration[] } = {}): Db {
  return openStore(dataDir, opts.migrations ?? MIGRATIONS, opts);
}

/**
 * The hub's store as hub.yaml `store` says. `sql` is the facade the converted parts use: the
 * PostgreSQL database (store.kind: postgres), or the SQLite file itself. `db` is the SQLite file,
 * always opened: the parts not yet on PostgreSQL (docs/postgres.md lists them) keep their tables
 * there, per instance.
 */
export interface HubStore {
  db: Db;
  sql: SqlStore;
  close(): Promise<void>;
}

export async function openHubStore(config: HubConfig, opts: OpenDbOptions = {}): Promise<HubStore> {
  const db = openDb(config.dataDir, { synchronous: config.store.synchronous, ...opts });
  let sql: SqlStore;
  try {
    sql = config.store.kind === 'postgres' ? await openPostgres({ url: config.store.url!, poolSize: config.store.poolSize, steps: SQL_STEPS }) : sqliteSql(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return {
    db,
    sql,
    close: async () => {
      await sql.close();
      db.close();
    },
  };
}
