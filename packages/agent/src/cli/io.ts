/** What every verb shares: output streams, exit codes, config loading, argument errors. */
import { parseArgs } from 'node:util';
import { AgentConfig, ConfigError, loadConfigFile, type OptionSpec } from '@sentinela/shared';

export type { OptionSpec };

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
};

/** Thrown for a bad command line or config; main prints it and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type ParsedValues = Record<string, string | boolean | undefined>;

export function parseVerbArgs(verb: string, args: string[], options: OptionSpec): { values: ParsedValues } {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]}\nsee: sentinela-agent ${verb} --help`);
  }
}

export function requireOption(verb: string, value: string | boolean | undefined, name: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`missing --${name}\nsee: sentinela-agent ${verb} --help`);
  return value;
}

/** Validates the whole config before anything else happens; a ConfigError becomes exit code 2. */
export function loadAgentConfig(file: string): AgentConfig {
  try {
    return loadConfigFile(file, AgentConfig);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * An ordinary failure (a database refusing, a missing file, a damaged copy) is one line a person can
 * act on; only a fault in the agent itself (TypeError and kin) keeps its stack trace, for the bug report.
 */
export function failureLine(verb: string, err: unknown): string {
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError) return `sentinela-agent ${verb}: ${err.stack ?? String(err)}`;
  const message = err instanceof Error ? err.message : String(err);
  return `sentinela-agent ${verb}: ${message.split('\n').map((l) => l.trim()).filter(Boolean).join(' — ')}`;
}
