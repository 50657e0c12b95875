/**
 * Running dump and restore tools (mariadb-dump, pg_dump, psql, …): finding them on PATH, reading their
 * version, and turning a running tool into a stream that errors — rather than ends — when the tool fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Transform, pipeline, type Readable } from 'node:stream';
import { DumpError } from './source.js';

/** The first of `names` found as an executable on PATH. */
export function findTool(names: string[]): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of names) {
    for (const dir of dirs) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return name;
      } catch {
        /* not here */
      }
    }
  }
  return undefined;
}

/** Keeps the last `max` bytes of a tool's stderr: enough for its error message, bounded whatever it prints. */
export class StderrTail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max = 64 * 1024) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.max && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8').trim();
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the tool could not be started at all (ENOENT, EACCES). */
  spawnError?: Error;
}

/** Resolves once the child has exited and its stdio is closed; never rejects. */
export function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
      // A child that never started emits no 'close' on every Node version: resolve here too.
      if (child.pid === undefined) resolve({ code: null, signal: null, spawnError });
    });
    child.once('close', (code, signal) => resolve({ code, signal, spawnError }));
  });
}

export function describeExit(command: string, exit: Exit, stderr: string): string {
  if (exit.spawnError) {
    const code = (exit.spawnError as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${command} is not installed (not found on PATH)` : `${command} could not start: ${exit.spawnError.message}`;
  }
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  // The line that says what went wrong: the mariadb client frames its error with the statement.
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^-+$/.test(l));
  const first = lines.find((l) => /error|fatal|denied|failed/i.test(l)) ?? lines[0] ?? '';
  return `${command} ${how}${first ? `: ${first}` : ''}`;
}

/** Runs `command --version` (or `args`) and returns its first output line. */
export function toolVersion(command: string, args = ['--version']): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.resume();
    void exitOf(child).then((exit) => {
      if (exit.code === 0) resolve(out.split('\n')[0]!.trim());
      else reject(new Error(describeExit(command, exit, out)));
    });
  });
}

export interface ToolStream {
  /** The tool's stdout after `through`; errors with a DumpError if the tool fails, even after its last byte. */
  stream: Readable;
  /** Resolves when the stream has been fully read and the tool exited 0; rejects with the DumpError otherwise. */
  done: Promise<void>;
}

/**
 * Streams a tool's stdout. The last stage holds back the end of the stream until the tool's exit
 * status is known, so a tool that dies mid-dump gives a stream that errors: a truncated dump can
 * never be mistaken for a complete one.
 */
export function streamTool(opts: {
  source: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Pass-through stages (row counters) between the tool and the consumer. */
  through?: Transform[];
  /** Called once the tool has exited, whatever the outcome (removes temp files). */
  cleanup?: () => void;
}): ToolStream {
  const child = spawn(opts.command, opts.args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ? { ...process.env, ...opts.env } : process.env });
  const tail = new StderrTail();
  child.stderr!.on('data', (c: Buffer) => tail.push(c));
  const exit = exitOf(child).finally(() => opts.cleanup?.());
  const failure = (e: Exit) => new DumpError(opts.source, tail.text, describeExit(opts.command, e, tail.text));

  const gate = new Transform({
    transform(chunk, _enc, cb) {
      cb(null, chunk);
    },
    flush(cb) {
      void exit.then((e) => cb(e.code === 0 && !e.spawnError ? null : failure(e)));
    },
  });
  let settle!: { resolve: () => void; reject: (e: Error) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined); // the caller may only watch the stream; never an unhandled rejection

  pipeline([child.stdout!, ...(opts.through ?? []), gate] as unknown as [Readable, Transform], (err) => {
    if (!err) return settle.resolve();
    // The consumer gave up early (or a stage failed): stop the tool, report what it said if it failed.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    void exit.then((e) => settle.reject(err instanceof DumpError ? err : e.code !== 0 && !e.signal ? failure(e) : new DumpError(opts.source, tail.text, err.message)));
  });
  // A spawn failure emits no data: make the stream fail rather than end empty.
  void exit.then((e) => e.spawnError && gate.destroy(failure(e)));
  return { stream: gate, done };
}
