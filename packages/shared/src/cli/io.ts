/** What every verb of both programs shares: output streams, exit codes, the usage error and the one-line failure. */

/** Exit codes of sentinela-agent and sentinela-hub alike. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const line = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);

export const processIo: Io = {
  out: (text) => process.stdout.write(line(text)),
  err: (text) => process.stderr.write(line(text)),
};

/** A mistake in the command line or the config: the program prints it and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * An ordinary failure (a database refusing, a missing file, a damaged copy) is one line a person can
 * act on; only a fault in the program itself (TypeError and kin) keeps its stack trace, for the bug report.
 */
export function failureLine(prefix: string, err: unknown): string {
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError) return `${prefix}: ${err.stack ?? String(err)}`;
  const message = err instanceof Error ? err.message : String(err);
  return `${prefix}: ${message.split('\n').map((l) => l.trim()).filter(Boolean).join(' — ')}`;
}
