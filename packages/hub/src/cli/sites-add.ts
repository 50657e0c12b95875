/** `sentinela-hub sites add`: creates a site and prints its one-time enrolment token. */
import { openDb } from '../database.js';
import { createSite } from '../store/sites.js';
import { issueEnrollToken } from '../store/tokens.js';
import { configOption, enrollCommand, helpOption, hubUrl, jsonOption, loadHubConfig, parse, UsageError, EXIT_OK, type Command } from './common.js';
import { printToken } from './sites-token.js';

export const sitesAdd: Command = {
  name: 'sites add',
  summary: 'create a site and print its one-time enrolment token',
  help: `Usage: sentinela-hub sites add --id SITE [--name NAME] [--province PROVINCE] [--config FILE] [--json]

Creates a health-facility site and prints a one-time enrolment token, its expiry
(enrollment.tokenTtlHours) and the command to run on the site's agent. The token can be
used once; "sentinela-hub sites token" issues a new one.

Options:
  --id SITE            site id: lowercase letters, digits and dashes (e.g. hf-0001)
  --name NAME          facility name, shown in the console
  --province PROVINCE  province, e.g. maputo-cidade
  -c, --config FILE    hub configuration (default /etc/sentinela/hub.yaml)
  --json               print {"siteId","name","province","token","expiresAt","hubUrl","enrollCommand"}
  -h, --help           this help

Example:
  sentinela-hub sites add --config /etc/sentinela/hub.yaml --id hf-0001 --name "CS Chamanculo" --province maputo-cidade`,
  async run(args, io) {
    const { values } = parse(args, {
      ...configOption,
      ...helpOption,
      ...jsonOption,
      id: { type: 'string' },
      name: { type: 'string' },
      province: { type: 'string' },
    });
    if (!values.id) throw new UsageError('--id is required (e.g. --id hf-0001)');
    const config = loadHubConfig(values.config!);
    const db = openDb(config.dataDir, { synchronous: config.store.synchronous });
    try {
      const site = createSite(db, { id: values.id, ...(values.name ? { name: values.name } : {}), ...(values.province ? { province: values.province } : {}) });
      const issued = issueEnrollToken(db, site.id, config.enrollment.tokenTtlHours);
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
      db.close();
    }
    return EXIT_OK;
  },
};
