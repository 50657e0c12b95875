/** `sentinela-hub sites revoke`: the site's MQTT password stops working; its stored data stays. */
import { openHubStore } from '../database.js';
import { revokeSite, SiteError } from '../store/sites.js';
import { defineVerb, EXIT_OK, UsageError } from '@sentinela/shared/cli';
import { configOption, loadHubConfig } from './common.js';

export const sitesRevoke = defineVerb({
  name: 'sites revoke',
  summary: "revoke a site's MQTT credentials (a stolen or retired server)",
  description: `Revokes the site's MQTT credentials: its password stops working, its unused enrolment tokens
expire, and within the hub's sweep (externalBroker.sweepSeconds, default 30 s) its live
connection is closed; with provision: mosquitto-dynsec its client and role are removed from
Mosquitto. What the site sent stays stored. To let the site back, issue a new token
(sentinela-hub sites token --id SITE) and enrol again.`,
  options: {
    ...configOption,
    id: { type: 'string', arg: 'SITE', help: 'the site id' },
    json: { type: 'boolean', help: 'print {"siteId","revoked"}' },
  },
  examples: ['sentinela-hub sites revoke --config /etc/sentinela/hub.yaml --id hf-0001'],
  async run({ values, io }) {
    if (!values.id) throw new UsageError('--id is required (e.g. --id hf-0001)');
    const config = loadHubConfig(values.config);
    const store = await openHubStore(config);
    try {
      if (!(await revokeSite(store.sql, values.id))) throw new SiteError('unknown', `there is no site ${values.id} (sentinela-hub sites list shows the sites)`);
    } finally {
      await store.close();
    }
    if (values.json) io.out(JSON.stringify({ siteId: values.id, revoked: true }));
    else io.out(`Site ${values.id}: MQTT credentials revoked. A running hub closes its connection within ${config.externalBroker?.sweepSeconds ?? 30} s.`);
    return EXIT_OK;
  },
});
