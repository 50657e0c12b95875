/**
 * Revocation reaches the broker through a sweep, not a call: `sites revoke` runs in its own process
 * and only writes the database, and a broker that was unreachable at the time must still catch up.
 * Every `sweepSeconds` (and at start) sites without credentials lose their broker session:
 * the embedded broker closes their connection, Mosquitto's dynamic security loses their client and role.
 * It reads the sites through the SQL facade: with several instances on PostgreSQL, each sweeps
 * from the one list (a site removed twice from the broker is harmless).
 */
import type { Logger } from '@sentinela/shared';
import type { Sql } from '../store/sql.js';
import type { Dynsec } from './dynsec.js';

export interface SweepTarget {
  /** Embedded broker: close a live connection. */
  disconnectSite?: (siteId: string, reason: string) => void;
  /** External broker provisioned by the hub. */
  dynsec?: Dynsec | null;
}

export interface CredentialSweep {
  /** One pass now; resolves when done (tests and `close` wait on it). */
  run(): Promise<void>;
  close(): Promise<void>;
}

export function startCredentialSweep(sql: Sql, target: SweepTarget, everySeconds: number, logger: Logger): CredentialSweep {
  const log = logger.child({ component: 'credential-sweep' });
  let running: Promise<void> | null = null;
  let lastError = '';

  async function pass(): Promise<void> {
    if (target.disconnectSite) {
      const connected = await sql.query<{ id: string }>('SELECT id FROM sites WHERE connected = 1 AND password_hash IS NULL');
      for (const { id } of connected) target.disconnectSite(id, 'its credentials were revoked');
    }
    const dynsec = target.dynsec;
    // Not connected: the ingest already says so; the next sweep after it reconnects catches up.
    if (!dynsec?.connected()) return;
    const sites = await sql.query<{ id: string; revoked: number | boolean }>('SELECT id, password_hash IS NULL AS revoked FROM sites');
    const revoked = new Set(sites.filter((s) => s.revoked).map((s) => s.id));
    const exists = new Set(sites.map((s) => s.id));
    for (const id of await dynsec.provisionedSites()) {
      if (exists.has(id) && !revoked.has(id)) continue;
      await dynsec.revokeSite(id);
      log.info({ site: id }, `removed site ${id} from the broker: ${exists.has(id) ? 'its credentials were revoked' : 'it is no longer a site of this hub'}`);
    }
  }

  const run = (): Promise<void> =>
    (running ??= pass()
      .then(() => (lastError = ''))
      .catch((err: unknown) => {
        const msg = (err as Error).message;
        // Once per distinct failure: the broker being away is retried quietly every sweep.
        if (msg !== lastError) log.warn({ err: msg }, `could not sweep revoked sites from the broker (will retry every ${everySeconds} s): ${msg}`);
        lastError = msg;
      })
      .finally(() => (running = null))
      .then(() => undefined));

  const timer = setInterval(() => void run(), everySeconds * 1000);
  timer.unref();
  void run();
  return {
    run,
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}
