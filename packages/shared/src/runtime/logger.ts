/**
 * One logger for both programs: JSON lines on stdout (journald keeps them; `jq` reads them),
 * each with a plain-English `msg` that says what happened and, for refusals, why.
 */
import { createRequire } from 'node:module';
import type { Logger, LevelWithSilent, DestinationStream } from 'pino';

export type { Logger, DestinationStream };

/**
 * pino is loaded when the first logger is made, not when this package is imported: the CLI's
 * one-shot verbs (restore, verify) log nothing and would pay ~70 ms of CPU at every start for it.
 */
const pinoModule = (): typeof import('pino') => createRequire(import.meta.url)('pino') as typeof import('pino');

/** `destination` defaults to stdout; tests pass a stream they can read the lines from. */
export function createLogger(name: string, level: LevelWithSilent = 'info', destination?: DestinationStream): Logger {
  const { pino } = pinoModule();
  const options = {
    name,
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
