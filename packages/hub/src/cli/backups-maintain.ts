/** `sentinela-hub backups maintain`: retention and keyless verify of the off-site store now, not at the next timer. */
import { openDb } from '../database.js';
import { defineVerb, EXIT_FAILURE, EXIT_OK, UsageError } from '@sentinela/shared/cli';
import { configOption, loadHubConfig } from './common.js';
import { describeMaintenance, maintainBackups } from '../backups/maintain.js';
import { PRUNE_GRACE_MS } from '../backups/retention.js';
import { HubBackupStore } from '../backups/store.js';

export const backupsMaintain = defineVerb({
  name: 'backups maintain',
  summary: 'apply retention (backups.keepLast) and verify every off-site snapshot without a key',
  description: `Aplica a retenção e verifica as cópias fora do local, sem a chave do local.

What "serve" does every backups.verifyEveryHours, run now. Per site: keeps the newest
backups.keepLast snapshots of each source and every base a kept delta needs, forgets the
others (store and catalogue), prunes objects no kept snapshot lists, then reads every object
and checks its SHA-256 against its name (no site key is needed). A damaged snapshot is marked
in the catalogue (GET /api/v1/sites/ID/snapshots, "damaged") and cannot be exported.
Safe while "serve" runs. One line per site as it is done. Exit code 1 when a snapshot is damaged or a site failed.`,
  options: {
    ...configOption,
    site: { type: 'string', arg: 'ID', help: 'only this site (default: every site)' },
    'grace-minutes': { type: 'string', arg: 'N', help: `keep unlisted objects younger than this (a transfer may be running; default ${PRUNE_GRACE_MS / 60_000})` },
    json: { type: 'boolean', help: 'print the result as JSON (one object per site)' },
  },
  examples: ['sentinela-hub backups maintain --config /etc/sentinela/hub.yaml --site hf-0001'],
  async run({ values, io }) {
    const grace = values['grace-minutes'] === undefined ? PRUNE_GRACE_MS / 60_000 : Number(values['grace-minutes']);
    if (!Number.isFinite(grace) || grace < 0) throw new UsageError(`--grace-minutes must be a number of minutes ≥ 0, not "${values['grace-minutes']}"`);
    const config = loadHubConfig(values.config);
    const db = openDb(config.dataDir, { synchronous: config.store.synchronous });
    try {
      // Each site's line as soon as it is done: a hub with many sites shows its progress.
      const results = await maintainBackups(db, new HubBackupStore(config.dataDir), config.backups, {
        graceMs: grace * 60_000,
        sites: values.site ? [values.site] : undefined,
        onSite: (r) => {
          if (values.json) return io.out(JSON.stringify(r));
          const d = describeMaintenance(r);
          (d.level === 'error' ? io.err : io.out)(d.msg);
        },
      });
      if (values.site && results.length === 0) throw new UsageError(`the hub holds no off-site store for site ${values.site}`);
      return results.some((r) => r.error || Object.keys(r.damaged).length > 0) ? EXIT_FAILURE : EXIT_OK;
    } finally {
      db.close();
    }
  },
});
