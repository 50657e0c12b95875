/** `sentinela-hub sites add`: creates a site and prints its one-time enrolment token. */
import { openHubStore } from '../database.js';
import { addSite } from '../store/sites.js';
import { issueEnrollToken } from '../store/tokens.js';
import { defineVerb, EXIT_OK, UsageError } from '@sentinela/shared/cli';
import { configOption, enrollCommand, hubUrl, loadHubConfig } from './common.js';
import { printToken } from './sites-token.js';

export const sitesAdd = defineVerb({
  name: 'sites add',
  summary: 'create a site and print its one-time enrolment token',
  description: `Creates a health-facility site and prints a one-time enrolment token, its expiry
(enrollment.tokenTtlHours) and the command to run on the site's agent. The token can be
used once; "sentinela-hub sites token" issues a new one.`,
  options: {
    ...configOption,
    id: { type: 'string', arg: 'SITE', help: 'site id: lowercase letters, digits and dashes (e.g. hf-0001)' },
    name: { type: 'string', arg: 'NAME', help: 'facility name, shown in the console' },
    province: { type: 'string', arg: 'PROVINCE', help: 'province, e.g. maputo-cidade' },
    json: { type: 'boolean', help: 'print {"siteId","name","province","token","expiresAt","hubUrl","enrollCommand"}' },
  },
  examples: ['sentinela-hub sites add --config /etc/sentinela/hub.yaml --id hf-0001 --name "CS Chamanculo" --province maputo-cidade'],
  async run({ values, io }) {
    if (!values.id) throw new UsageError('--id is required (e.g. --id hf-0001)');
    const config = loadHubConfig(values.config);
    const store = await openHubStore(config);
    try {
      const site = await addSite(store.sql, { id: values.id, ...(values.name ? { name: values.name } : {}), ...(values.province ? { province: values.province } : {}) });
      const issued = await issueEnrollToken(store.sql, site.id, config.enrollment.tokenTtlHours);
      if (values.json) {
        io.out(
          JSON.stringify({
            siteId: site.id,
            name: site.name,
            province: site.province,
            token: issued.token,
            expiresAt: issued.expiresAt,
            hubUrl: hubUrl(config),
            enrollCommand: enrollCommand(config, issued.token),
          }),
        );
      } else {
        const label = [site.name, site.province].filter(Boolean).join(', ');
        io.out(`Created site ${site.id}${label ? ` (${label})` : ''}.`);
        printToken(io, config, issued);
      }
    } finally {
      await store.close();
    }
    return EXIT_OK;
  },
});
