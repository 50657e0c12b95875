/** `sentinela-agent key init|export`: the site's backup key and its recovery code. */
import { existsSync } from 'node:fs';
import type { AGENT_VERB_OPTIONS } from '@sentinela/shared';
import { EXIT_FAILURE, EXIT_OK, type Io, type VerbInput } from '@sentinela/shared/cli';
import { MasterKey, loadOrCreateKey } from '../repository/keys.js';
import { RepositoryError } from '../repository/errors.js';
import { backupKeyPath } from '../paths.js';
import { loadAgentConfig } from './config.js';

export const KEEP_IT_SAFE =
  'Guarde este código junto dos discos USB, nunca junto do servidor. / Keep this code with the USB disks, never with the server.';

/** A key that cannot be read or written is one line and exit 1. */
function keyFailure(io: Io, action: string, err: unknown): number {
  if (!(err instanceof RepositoryError)) throw err;
  io.err(`sentinela-agent key ${action}: ${err.message}`);
  return EXIT_FAILURE;
}

export async function keyInitVerb({ values, io }: VerbInput<(typeof AGENT_VERB_OPTIONS)['key init']>): Promise<number> {
  const path = backupKeyPath(loadAgentConfig(values.config));
  try {
    const existed = existsSync(path);
    const { key } = loadOrCreateKey(path);
    io.out(existed ? `the backup key already exists at ${path} (key id ${key.subkeys().keyId.slice(0, 8)}…); nothing changed` : `created the backup key at ${path} (mode 0600)`);
    if (!existed) io.out('print its recovery code now with: sentinela-agent key export --config …');
    return EXIT_OK;
  } catch (err) {
    return keyFailure(io, 'init', err);
  }
}

export async function keyExportVerb({ values, io }: VerbInput<(typeof AGENT_VERB_OPTIONS)['key export']>): Promise<number> {
  const path = backupKeyPath(loadAgentConfig(values.config));
  try {
    const key = MasterKey.load(path);
    io.out(`recovery code of the backup key ${path}:\n\n    ${key.toRecoveryCode()}\n\n${KEEP_IT_SAFE}`);
    return EXIT_OK;
  } catch (err) {
    return keyFailure(io, 'export', err);
  }
}
