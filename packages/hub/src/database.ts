/** The hub database: opened with the store's schema steps and every module's, in order. */
import { openStore, type Db, type OpenDbOptions } from './store/db.js';
import { orderSteps, STORE_MIGRATIONS, type Migration } from './store/migrations.js';
import { HUB_MODULES } from './modules.js';

/** The whole schema in user_version order (a plain array: test/install.test.ts appends the next release's step). */
export const MIGRATIONS: Migration[] = orderSteps([...STORE_MIGRATIONS, ...HUB_MODULES.flatMap((m) => m.migrations ?? [])]);

export function openDb(dataDir: string, opts: OpenDbOptions & { migrations?: readonly Migration[] } = {}): Db {
  return openStore(dataDir, opts.migrations ?? MIGRATIONS, opts);
}
