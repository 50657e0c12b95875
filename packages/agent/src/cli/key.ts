/** `sentinela-agent key init|export`: the site's backup key and its recovery code. */
import { AGENT_VERB_OPTIONS } from '@sentinela/shared';
import { existsSync } from 'node:fs';
import { MasterKey, loadOrCreateKey } from '../repository/keys.js';
import { RepositoryError } from '../repository/errors.js';
import { backupKeyPath } from '../paths.js';
import { EXIT_FAILURE, EXIT_OK, loadAgentConfig, parseVerbArgs, requireOption, UsageError, type Io } from './io.js';
import { VERB_HELP } from './help.js';

export const KEEP_IT_SAFE =
  'Guarde este código junto dos discos USB, nunca junto do servidor. / Keep this code with the USB disks, never with the server.';

export async function keyCommand(args: string[], io: Io): Promise<number> {
  const [action, ...rest] = args;
  if (action === '--help' || action === '-h' || action === undefined) {
    io.out(VERB_HELP.key!);
    return action === undefined ? 2 : EXIT_OK;
  }
  if (action !== 'init' && action !== 'export') throw new UsageError(`sentinela-agent key: unknown action "${action}"; actions: init, export`);
  const { values } = parseVerbArgs('key', rest, AGENT_VERB_OPTIONS[`key ${action}`]);
  if (values.help) {
    io.out(VERB_HELP.key!);
    return EXIT_OK;
  }
  const config = loadAgentConfig(requireOption('key', values.config, 'config'));
  const path = backupKeyPath(config);
  try {
    if (action === 'init') {
      const existed = existsSync(path);
      const { key } = loadOrCreateKey(path);
      io.out(existed ? `the backup key already exists at ${path} (key id ${key.subkeys().keyId.slice(0, 8)}…); nothing changed` : `created the backup key at ${path} (mode 0600)`);
      if (!existed) io.out('print its recovery code now with: sentinela-agent key export --config …');
      return EXIT_OK;
    }
    const key = MasterKey.load(path);
    io.out(`recovery code of the backup key ${path}:\n\n    ${key.toRecoveryCode()}\n\n${KEEP_IT_SAFE}`);
    return EXIT_OK;
  } catch (err) {
    if (!(err instanceof RepositoryError)) throw err;
    io.err(`sentinela-agent key ${action}: ${err.message}`);
    return EXIT_FAILURE;
  }
}
