/** `sentinela-hub backups export`: one snapshot's chain from the off-site store into a folder, with progress. */
import { resolve } from 'node:path';
import { openDb } from '../database.js';
import { defineVerb, EXIT_OK, progressPrinter, UsageError } from '@sentinela/shared/cli';
import { configOption, loadHubConfig } from './common.js';
import { unsealSiteKey } from '../backups/escrow.js';
import { exportToDir } from '../backups/export.js';
import { HubBackupStore } from '../backups/store.js';

export const backupsExport = defineVerb({
  name: 'backups export',
  summary: "export a site's off-site snapshot to a folder (restore after fire or flood)",
  description: `Writes a self-contained repository folder holding the snapshot and every base it needs, each
object checked against its SHA-256 on the way out. With --with-key (run it as the hub's admin:
it reads the hub's escrow key) the folder also holds backup.key, the site key unsealed from the
escrow; without it, README.txt says how to restore with the site's recovery code. Progress on stderr.`,
  options: {
    ...configOption,
    site: { type: 'string', arg: 'ID', help: 'the site' },
    snapshot: { type: 'string', arg: 'ID', help: 'the snapshot (see GET /api/v1/sites/ID/snapshots)' },
    latest: { type: 'boolean', help: "instead of --snapshot: the site's newest whole snapshot" },
    out: { type: 'string', arg: 'DIR', help: 'the folder to write (created)' },
    'with-key': { type: 'boolean', help: 'include the escrowed site key (backup.key, mode 0600)' },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
  examples: [
    'sentinela-hub backups export --config /etc/sentinela/hub.yaml --site hf-0001 --latest --with-key --out /media/usb/hf-0001',
    'sentinela-agent restore --from /media/usb/hf-0001 --snapshot ID --to-database openmrs',
  ],
  async run({ values, io }) {
    if (!values.site) throw new UsageError('--site ID is required');
    if (!values.out) throw new UsageError('--out DIR is required');
    if (!values.snapshot === !values.latest) throw new UsageError('give --snapshot ID or --latest');
    const config = loadHubConfig(values.config);
    const db = openDb(config.dataDir, { synchronous: config.store.synchronous });
    try {
      const key = values['with-key'] ? unsealSiteKey(db, config.dataDir, values.site) : null;
      if (values['with-key'] && !key) throw new Error(`site ${values.site} never deposited its key with this hub; restore with its recovery code`);
      const progress = progressPrinter(io, 'export', { quiet: values.json === true });
      const r = await exportToDir(new HubBackupStore(config.dataDir), resolve(values.out), {
        siteId: values.site,
        snapshot: values.snapshot ?? 'latest',
        key,
        onProgress: progress.update,
      });
      progress.done();
      if (values.json) io.out(JSON.stringify({ ...r, out: resolve(values.out), withKey: !!key }));
      else io.out(`exported ${r.snapshot} of site ${values.site} to ${resolve(values.out)}: ${r.objects} objects, ${r.bytes} bytes${key ? ', with backup.key' : ''}`);
    } finally {
      db.close();
    }
    return EXIT_OK;
  },
});
