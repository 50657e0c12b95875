/** `sentinela-hub backups export`: one snapshot's chain from the off-site store into a folder, with progress. */
import { resolve } from 'node:path';
import { openDb } from '../database.js';
import { configOption, helpOption, jsonOption, loadHubConfig, parse, EXIT_OK, UsageError, type Command } from './common.js';
import { unsealSiteKey } from '../backups/escrow.js';
import { exportToDir } from '../backups/export.js';
import { HubBackupStore } from '../backups/store.js';

export const backupsExport: Command = {
  name: 'backups export',
  summary: "export a site's off-site snapshot to a folder (restore after fire or flood)",
  help: `Usage: sentinela-hub backups export --config FILE --site ID (--snapshot ID | --latest) --out DIR [--with-key] [--json]

Writes a self-contained repository folder holding the snapshot and every base it needs, each
object checked against its SHA-256 on the way out. With --with-key (run it as the hub's admin:
it reads the hub's escrow key) the folder also holds backup.key, the site key unsealed from the
escrow; without it, README.txt says how to restore with the site's recovery code.

Options:
  -c, --config FILE    hub configuration (default /etc/sentinela/hub.yaml)
  --site ID            the site
  --snapshot ID        the snapshot (see GET /api/v1/sites/ID/snapshots), or --latest
  --out DIR            the folder to write (created)
  --with-key           include the escrowed site key (backup.key, mode 0600)
  --json               print the result as JSON

Example:
  sentinela-hub backups export --config /etc/sentinela/hub.yaml --site hf-0001 --latest --with-key --out /media/usb/hf-0001
  sentinela-agent restore --from /media/usb/hf-0001 --snapshot ID --to-database openmrs`,
  async run(args, io) {
    const { values } = parse(args, {
      ...configOption,
      ...helpOption,
      ...jsonOption,
      site: { type: 'string' },
      snapshot: { type: 'string' },
      latest: { type: 'boolean' },
      out: { type: 'string' },
      'with-key': { type: 'boolean' },
    });
    if (!values.site) throw new UsageError('--site ID is required');
    if (!values.out) throw new UsageError('--out DIR is required');
    if (!values.snapshot === !values.latest) throw new UsageError('give --snapshot ID or --latest');
    const config = loadHubConfig(values.config!);
    const db = openDb(config.dataDir, { synchronous: config.store.synchronous });
    try {
      const key = values['with-key'] ? unsealSiteKey(db, config.dataDir, values.site) : null;
      if (values['with-key'] && !key) throw new Error(`site ${values.site} never deposited its key with this hub; restore with its recovery code`);
      let last = 0;
      const r = await exportToDir(new HubBackupStore(config.dataDir), resolve(values.out), {
        siteId: values.site,
        snapshot: values.snapshot ?? 'latest',
        key,
        onProgress: (p) => {
          if (values.json || Date.now() - last < 1000) return;
          last = Date.now();
          io.err(`exporting: ${p.doneItems}/${p.totalItems} objects, ${Math.round((100 * p.doneBytes) / Math.max(1, p.totalBytes))}%`);
        },
      });
      if (values.json) io.out(JSON.stringify({ ...r, out: resolve(values.out), withKey: !!key }));
      else io.out(`exported ${r.snapshot} of site ${values.site} to ${resolve(values.out)}: ${r.objects} objects, ${r.bytes} bytes${key ? ', with backup.key' : ''}`);
    } finally {
      db.close();
    }
    return EXIT_OK;
  },
};
