/** `sentinela-agent page set-pin`: sets the local page's PIN (stored as an scrypt hash, mode 0600). */
import { readFileSync } from 'node:fs';
import type { AGENT_VERB_OPTIONS } from '@sentinela/shared';
import { EXIT_OK, readSecret, UsageError, type VerbInput } from '@sentinela/shared/cli';
import { pinFilePath, PIN_PATTERN, writePinFile } from '../page/pin.js';
import { loadAgentConfig } from './config.js';

export async function setPinVerb({ values, io }: VerbInput<(typeof AGENT_VERB_OPTIONS)['page set-pin']>): Promise<number> {
  const config = loadAgentConfig(values.config);
  const from = values['pin-file'] ?? null;
  let pin: string;
  if (from) {
    try {
      pin = readFileSync(from, 'utf8').split('\n')[0]!;
    } catch (err) {
      throw new UsageError(`cannot read --pin-file ${from}: ${(err as Error).message}`);
    }
  } else pin = await readSecret({ question: 'PIN: ', again: 'PIN (again / outra vez): ', missing: 'no PIN given (type it, pipe it in, or use --pin-file)' });
  pin = pin.trim();
  if (!PIN_PATTERN.test(pin)) throw new UsageError(`the PIN ${from ? `in ${from} ` : ''}must be 4 to 12 digits (got ${pin.length} characters)`);
  const file = pinFilePath(config);
  await writePinFile(file, pin);
  io.out(`PIN definido / PIN set: ${file} (scrypt hash, mode 0600). The running agent uses it at once.`);
  return EXIT_OK;
}
