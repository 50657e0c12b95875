/** `sentinela-hub relays add` (at the MoH hub): registers a DPS hub as a relay for one province and prints its secret once. */
import { openDb } from '../database.js';
import { createRelay } from '../upstream/relays.js';
import { defineVerb, EXIT_OK, UsageError } from '@sentinela/shared/cli';
import { configOption, loadHubConfig } from './common.js';

export const relaysAdd = defineVerb({
  name: 'relays add',
  summary: 'let a DPS hub mirror its province to this hub',
  description: `Run at the MoH hub. Registers the DPS hub ID as a relay for the province NAME and prints its
secret once (only a hash is stored). The relay may send status, events and backups only for
sites of its own: sites it brings are created here under NAME. Running it again for the same
ID gives a new secret (the old one stops working). On the DPS hub, put the secret in a file and
run "sentinela-hub upstream enrol".

Corre no hub do MISAU. Regista o hub da DPS como relé da província e mostra o segredo uma vez.`,
  options: {
    ...configOption,
    id: { type: 'string', arg: 'ID', help: "the DPS hub's relay id (its hubId, e.g. dps-maputo)" },
    province: { type: 'string', arg: 'NAME', help: 'the province its sites belong to (e.g. maputo-provincia)' },
    json: { type: 'boolean', help: 'print {"id","province","secret"}' },
  },
  examples: ['sentinela-hub relays add --config /etc/sentinela/hub.yaml --id dps-maputo --province maputo-provincia'],
  async run({ values, io }) {
    if (!values.id) throw new UsageError('--id is required (e.g. --id dps-maputo)');
    if (!values.province) throw new UsageError('--province is required (e.g. --province maputo-provincia)');
    const config = loadHubConfig(values.config);
    const db = openDb(config.dataDir, { synchronous: config.store.synchronous });
    try {
      const r = createRelay(db, values.id, values.province);
      if (values.json) io.out(JSON.stringify({ id: r.id, province: r.province, secret: r.secret }));
      else {
        io.out(`relay ${r.id} for province ${r.province} ${r.renewed ? 'has a new secret (the old one no longer works)' : 'registered'}; its secret (shown only now):`);
        io.out(`  ${r.secret}`);
        io.out(`On the DPS hub: save it in a file (mode 0600) and run "sentinela-hub upstream enrol --secret-file FILE".`);
      }
    } finally {
      db.close();
    }
    return EXIT_OK;
  },
});
