/** Runs a configured command (no shell) with a time limit; never throws, says what happened. */
import { spawn } from 'node:child_process';

export interface CommandResult {
  ok: boolean;
  code: number | null;
  /** The last lines of its output, for the event. */
  output: string;
  error?: string;
}

export function runCommand(argv: readonly string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => (output = (output + d.toString('utf8')).slice(-2000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, code: null, output, error: `cannot run ${argv[0]}: ${err.code ?? err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal) resolve({ ok: false, code, output, error: `${argv[0]} was stopped by ${signal} (time limit ${timeoutMs} ms)` });
      else resolve({ ok: code === 0, code, output, ...(code === 0 ? {} : { error: `${argv[0]} exited with code ${code}` }) });
    });
  });
}
