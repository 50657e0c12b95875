/**
 * One logger for both programs: JSON lines on stdout (journald keeps them; `jq` reads them),
 * each with a plain-English `msg` that says what happened and, for refusals, why.
 */
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

export type { Logger, DestinationStream };

/** `destination` defaults to stdout; tests pass a stream they can read the lines from. */
export function createLogger(name: string, level: LevelWithSilent = 'info', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
