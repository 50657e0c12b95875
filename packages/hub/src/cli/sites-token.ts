/** `sentinela-hub sites token`: a new enrolment token for an existing site (re-enrolment). */
import type { HubConfig } from '@sentinela/shared';
import { openHubStore } from '../database.js';
import { issueEnrollToken, type IssuedToken } from '../store/tokens.js';
import { defineVerb, EXIT_OK, UsageError, type Io } from '@sentinela/shared/cli';
import { configOption, enrollCommand, hubUrl, loadHubConfig } from './common.js';

export function printToken(io: Io, config: HubConfig, issued: IssuedToken): void {
  io.out(`One-time enrolment token for ${issued.siteId} (valid until ${issued.expiresAt}):`);
  io.out(`  ${issued.token}`);
  io.out('On the site server, run:');
  io.out(`  ${enrollCommand(config, issued.token)}`);
}

export const sitesToken = defineVerb({
  name: 'sites token',
  summary: "issue a new enrolment token for an existing site (e.g. after its server was replaced)",
  description: `Issues a new one-time enrolment token for an existing site, for example when its server was
replaced. Older unused tokens of the site stop working. When the new token is used, the
site gets a new MQTT password and the old password stops working at once.`,
  options: {
    ...configOption,
    id: { type: 'string', arg: 'SITE', help: 'the site id' },
    json: { type: 'boolean', help: 'print {"siteId","token","expiresAt","hubUrl","enrollCommand"}' },
  },
  examples: ['sentinela-hub sites token --config /etc/sentinela/hub.yaml --id hf-0001'],
  async run({ values, io }) {
    if (!values.id) throw new UsageError('--id is required (e.g. --id hf-0001)');
    const config = loadHubConfig(values.config);
    const store = await openHubStore(config);
    try {
      const issued = await issueEnrollToken(store.sql, values.id, config.enrollment.tokenTtlHours);
      if (values.json) {
        io.out(
          JSON.stringify({ siteId: issued.siteId, token: issued.token, expiresAt: issued.expiresAt, hubUrl: hubUrl(config), enrollCommand: enrollCommand(config, issued.token) }),
        );
      } else {
        printToken(io, config, issued);
        io.out(`When it is used, the current MQTT password of ${issued.siteId} stops working.`);
      }
    } finally {
      await store.close();
    }
    return EXIT_OK;
  },
});
