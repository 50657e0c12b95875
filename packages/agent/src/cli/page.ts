/** `sentinela-agent page set-pin`: sets the local page's PIN (stored as an scrypt hash, mode 0600). */
import { AGENT_VERB_OPTIONS } from '@sentinela/shared';
import { readFileSync } from 'node:fs';
import { pinFilePath, PIN_PATTERN, writePinFile } from '../page/pin.js';
import { EXIT_OK, loadAgentConfig, parseVerbArgs, requireOption, UsageError, type Io } from './io.js';
import { VERB_HELP } from './help.js';

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split('\n')[0] ?? '';
}

export async function pageCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(VERB_HELP.page!);
    return sub === undefined ? 2 : EXIT_OK;
  }
  if (sub !== 'set-pin') throw new UsageError(`sentinela-agent page: unknown action "${sub}"; actions: set-pin\nsee: sentinela-agent page --help`);
  const { values } = parseVerbArgs('page set-pin', rest, AGENT_VERB_OPTIONS['page set-pin']);
  if (values.help) {
    io.out(VERB_HELP.page!);
    return EXIT_OK;
  }
  const config = loadAgentConfig(requireOption('page set-pin', values.config, 'config'));
  const from = typeof values['pin-file'] === 'string' ? values['pin-file'] : null;
  let pin: string;
  try {
    pin = (from ? readFileSync(from, 'utf8').split('\n')[0]! : await readStdinLine()).trim();
  } catch (err) {
    throw new UsageError(`sentinela-agent page set-pin: cannot read --pin-file ${from}: ${(err as Error).message}`);
  }
  if (!PIN_PATTERN.test(pin))
    throw new UsageError(`sentinela-agent page set-pin: the PIN ${from ? `in ${from} ` : 'on stdin '}must be 4 to 12 digits (got ${pin.length} characters)`);
  const file = pinFilePath(config);
  await writePinFile(file, pin);
  io.out(`PIN definido / PIN set: ${file} (scrypt hash, mode 0600). The running agent uses it at once.`);
  return EXIT_OK;
}
