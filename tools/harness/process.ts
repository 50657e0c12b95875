/** Child processes for system tests, the demo and benchmarks: line-split output, JSON log lines, clean stops. */
import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './wait.js';

/** Children still running when this process exits (a test that timed out, say) are killed, never left behind. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export class NodeProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private onLine?: (line: string) => void;

  constructor(
    readonly name: string,
    script: string,
    args: string[],
    opts: { env?: NodeJS.ProcessEnv; echo?: (line: string) => void } = {},
  ) {
    this.onLine = opts.echo;
    this.child = spawn(process.execPath, ['--enable-source-maps', script, ...args], {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts) this.push(line);
      });
      stream.on('end', () => rest && this.push(rest));
    }
    live.add(this.child);
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        live.delete(this.child);
        resolve({ code, signal });
      }),
    );
  }

  private push(line: string): void {
    this.lines.push(line);
    this.onLine?.(line);
  }

  /** Every stdout/stderr line that is a JSON object (the programs' log lines). */
  logs(): LogLine[] {
    const out: LogLine[] = [];
    for (const line of this.lines) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as LogLine);
      } catch {
        /* not a log line */
      }
    }
    return out;
  }

  findLog(pred: (l: LogLine) => boolean): LogLine | undefined {
    return this.logs().find(pred);
  }

  async waitForLog(what: string, pred: (l: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    return waitFor(`${this.name}: ${what}`, () => {
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited with code ${this.child.exitCode}:\n${this.lines.slice(-20).join('\n')}`);
      return this.findLog(pred);
    }, timeoutMs);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a node script to completion. */
export function runNode(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--enable-source-maps', script, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
