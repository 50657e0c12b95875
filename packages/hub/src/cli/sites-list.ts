/** `sentinela-hub sites list`: every site with its state. */
import { siteView } from '../core/site-view.js';
import { openHubStore } from '../database.js';
import { listSites, siteStreams } from '../store/sites.js';
import { defineVerb, EXIT_OK } from '@sentinela/shared/cli';
import { configOption, loadHubConfig } from './common.js';

export const sitesList = defineVerb({
  name: 'sites list',
  summary: 'list the sites with their state and last contact',
  description: `Lists every site: id, state (online, stale, offline, never-seen), last contact, agent
version, messages missing (gaps), name and province. With --json, the same objects as
GET /api/v1/sites.`,
  options: { ...configOption, json: { type: 'boolean', help: 'print {"sites":[…]}' } },
  examples: ['sentinela-hub sites list --config /etc/sentinela/hub.yaml'],
  async run({ values, io }) {
    const config = loadHubConfig(values.config);
    const store = await openHubStore(config);
    try {
      const now = Date.now();
      const { rows: siteRows } = await listSites(store.sql);
      const sites = await Promise.all(siteRows.map(async (row) => siteView(row, await siteStreams(store.sql, row.id), config.sites, now)));
      if (values.json) {
        io.out(JSON.stringify({ sites }));
        return EXIT_OK;
      }
      if (sites.length === 0) {
        io.out('No sites yet. Create one with: sentinela-hub sites add --id hf-0001');
        return EXIT_OK;
      }
      const rows = [
        ['ID', 'STATE', 'LAST SEEN', 'AGENT', 'MISSING', 'NAME', 'PROVINCE'],
        ...sites.map((s) => [s.id, s.state, s.lastSeenAt ?? '-', s.agentVersion ?? '-', String(s.missing), s.name ?? '', s.province ?? '']),
      ];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) io.out(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
    } finally {
      await store.close();
    }
    return EXIT_OK;
  },
});
