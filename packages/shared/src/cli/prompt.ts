/**
 * A secret (a password, a PIN) typed at the terminal without echo, asked twice; from a pipe, its
 * first line. One readline interface reads every answer: closing it is what ends the read, never
 * what decides it (the hub's first prompt closed its reader before resolving and so always failed).
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { UsageError } from './io.js';

export interface SecretPrompt {
  /** "Password: " */
  question: string;
  /** "Again: ": asked on a terminal only, must match. */
  again: string;
  /** What the error says is missing, e.g. "no password given (type it, pipe it in, or use --password-file)". */
  missing: string;
}

export async function readSecret(p: SecretPrompt, input: NodeJS.ReadStream = process.stdin, prompt: NodeJS.WritableStream = process.stderr): Promise<string> {
  const tty = input.isTTY === true;
  // On a terminal readline echoes what it reads to its output: a sink keeps the secret off the screen.
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const rl = createInterface({ input, output: tty ? sink : undefined, terminal: tty });
  let cancelled = false;
  rl.on('SIGINT', () => {
    cancelled = true;
    rl.close();
  });
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (question: string): Promise<string | null> => {
    if (tty) prompt.write(question);
    const next = await lines.next();
    if (tty) prompt.write('\n');
    return next.done ? null : next.value;
  };
  try {
    const first = await ask(p.question);
    if (cancelled) throw new UsageError('cancelled');
    if (first === null || first === '') throw new UsageError(p.missing);
    if (tty) {
      const again = await ask(p.again);
      if (cancelled) throw new UsageError('cancelled');
      if (again !== first) throw new UsageError('the two entries differ; nothing changed');
    }
    return first;
  } finally {
    rl.close();
  }
}
