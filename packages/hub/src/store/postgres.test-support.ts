/**
 * A throwaway PostgreSQL database for a test: created on the local server (127.0.0.1:5432, trust,
 * as in CI) with a random name, dropped at teardown even if a pool is still open on it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.SENTINELA_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Creates the database and returns its URL; `teardown` (tap's t.teardown) drops it. */
export async function throwawayPostgres(teardown: (fn: () => Promise<void>) => void, tag = 'hub'): Promise<string> {
  const name = `sn_${tag}_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  teardown(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
