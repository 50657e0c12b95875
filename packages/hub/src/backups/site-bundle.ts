/**
 * What the hub knows about a site, as one JSON document: exported when the hub holds no off-site
 * copy of the snapshot asked for, so that the restorer still learns what to restore and from where.
 */
import type { Sql } from '../store/sql.js';
import { latestEvents, type SiteRow } from '../store/sites.js';
import { readStoredJson } from '../store/stored-json.js';
import { eventView } from '../core/site-view.js';

export async function siteBundle(sql: Sql, site: SiteRow, snapshot: unknown, exportedBy: string): Promise<string> {
  const events = await latestEvents(sql, site.id, 1000);
  return JSON.stringify(
    {
      kind: 'sentinela-site-bundle',
      version: 1,
      exportedAt: new Date().toISOString(),
      exportedBy,
      site: { id: site.id, name: site.name, province: site.province, agentVersion: site.agent_version, lastSeenAt: site.last_seen_at },
      snapshot,
      offsiteCopy: null,
      note: 'This hub holds no off-site copy of this snapshot: restore from the USB disk or the secondary server (see the restore instructions page). This bundle holds what the hub knows about the site.',
      latestStatus: readStoredJson(site.last_status_json),
      birth: readStoredJson(site.birth_json),
      events: events.map(eventView),
    },
    null,
    2,
  );
}
