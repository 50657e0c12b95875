/** `sentinela-hub upstream enrol` (at a DPS hub): checks the relay secret against the MoH hub, then stores it for "serve". */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { relayUsername, writeFileAtomic, type HubConfig } from '@sentinela/shared';
import { upstreamSecretPath } from '../upstream/index.js';
import { defineVerb, EXIT_FAILURE, EXIT_OK, UsageError } from '@sentinela/shared/cli';
import { configOption, loadHubConfig } from './common.js';

/** Logs in to the MoH hub once; resolves null on success, or the reason. */
function tryLogin(config: HubConfig, secret: string): Promise<string | null> {
  const cfg = config.upstream!;
  const id = relayUsername(cfg.relayId);
  return new Promise((resolve) => {
    const client = mqtt.connect(cfg.url, { clientId: id, username: id, password: secret, reconnectPeriod: 0, connectTimeout: 15_000, ...(cfg.caFile ? { ca: readFileSync(cfg.caFile) } : {}) });
    const finish = (r: string | null) => {
      client.end(true);
      resolve(r);
    };
    client.once('connect', () => finish(null));
    client.once('error', (err) => finish(err.message));
    client.once('close', () => finish('the MoH hub closed the connection'));
  });
}

export const upstreamEnrol = defineVerb({
  name: 'upstream enrol',
  summary: 'store the relay secret the MoH hub gave this hub',
  description: `Run at a DPS hub whose hub.yaml has an upstream: section. Reads the relay secret printed by
"sentinela-hub relays add" at the MoH hub from FILE ("-": standard input), logs in to
upstream.url once with it, and only if that works stores it in upstream.secretFile (default
<dataDir>/upstream.secret, mode 0600). Restart "serve" afterwards.

Corre no hub da DPS. Guarda o segredo do relé dado pelo hub do MISAU, depois de o testar.`,
  options: { ...configOption, 'secret-file': { type: 'string', arg: 'FILE', help: 'the file holding the secret, or - for standard input' } },
  examples: ['sentinela-hub upstream enrol --config /etc/sentinela/hub.yaml --secret-file /root/relay.secret'],
  async run({ values, io }) {
    const file = values['secret-file'];
    if (!file) throw new UsageError('--secret-file FILE is required (the secret printed by "sentinela-hub relays add" at the MoH hub)');
    const config = loadHubConfig(values.config);
    if (!config.upstream) throw new UsageError(`${values.config} has no upstream: section (url, relayId, province); add it first (see examples/hub.yaml)`);
    const secret = readFileSync(file === '-' ? 0 : file, 'utf8').trim();
    if (!secret) throw new UsageError(`${file} holds no secret`);
    const problem = await tryLogin(config, secret);
    if (problem) {
      io.err(`sentinela-hub upstream enrol: the MoH hub ${config.upstream.url} refused relay ${config.upstream.relayId}: ${problem}; nothing stored`);
      return EXIT_FAILURE;
    }
    const path = upstreamSecretPath(config);
    writeFileAtomic(path, `${secret}\n`, 0o600);
    io.out(`relay ${config.upstream.relayId} logged in to ${config.upstream.url}; secret stored in ${path}. Restart "sentinela-hub serve" to start mirroring.`);
    return EXIT_OK;
  },
});
