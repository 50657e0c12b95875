/** `sentinela-hub tokens add`: a new API token for /api/v1 (printed once, stored hashed). */
import { openDb } from '../database.js';
import { createApiToken } from '../store/tokens.js';
import { configOption, helpOption, jsonOption, loadHubConfig, parse, UsageError, EXIT_OK, type Command } from './common.js';

export const tokensAdd: Command = {
  name: 'tokens add',
  summary: 'create an API token for /api/v1',
  help: `Usage: sentinela-hub tokens add --name NAME [--role ROLE] [--config FILE] [--json]

Creates an API token for the JSON API under /api/v1 and prints it once (only its hash is
stored). Send it as "Authorization: Bearer <token>".

Options:
  --name NAME          what the token is for (e.g. grafana, moh-dashboard)
  --role ROLE          viewer (default: reads), operator (also acknowledges alerts, exports) or admin
  -c, --config FILE    hub configuration (default /etc/sentinela/hub.yaml)
  --json               print {"name","token"}
  -h, --help           this help

Example:
  sentinela-hub tokens add --config /etc/sentinela/hub.yaml --name grafana`,
  async run(args, io) {
    const { values } = parse(args, { ...configOption, ...helpOption, ...jsonOption, name: { type: 'string' }, role: { type: 'string', default: 'viewer' } });
    if (!values.name) throw new UsageError('--name is required (e.g. --name grafana)');
    const role = values.role!;
    if (role !== 'viewer' && role !== 'operator' && role !== 'admin') throw new UsageError(`--role must be viewer, operator or admin, not "${role}"`);
    const config = loadHubConfig(values.config!);
    const db = openDb(config.dataDir, { synchronous: config.store.synchronous });
    try {
      const token = createApiToken(db, values.name, new Date(), role);
      if (values.json) io.out(JSON.stringify({ name: values.name, role, token }));
      else {
        io.out(`API token "${values.name}" with role ${role} (shown only now; keep it safe):`);
        io.out(`  ${token}`);
        io.out(`Use it as: Authorization: Bearer ${token}`);
      }
    } finally {
      db.close();
    }
    return EXIT_OK;
  },
};
