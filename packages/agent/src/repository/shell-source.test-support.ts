/** For this folder's tests and the benchmark: a source that runs a real command, like the `command` kind. */
import { spawn } from 'node:child_process';
import { DumpError, type Dump, type Source, type SourceKind, type Tokenizer } from '../sources/source.js';

export class ShellSource implements Source {
  constructor(
    readonly name: string,
    /** A shell command writing the dump to stdout. */
    private readonly script: string,
    readonly tokenizer: Tokenizer = 'lines',
    readonly kind: SourceKind = 'command',
  ) {}

  dump(): Dump {
    const child = spawn('sh', ['-c', this.script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const info = new Promise<{ tool: { name: string; version: string } }>((resolve, reject) => {
      child.on('error', (err) => reject(new DumpError(this.name, String(err), `${this.name}: ${err.message}`)));
      child.on('close', (code) => {
        if (code === 0) resolve({ tool: { name: 'sh', version: '1' } });
        else reject(new DumpError(this.name, stderr.trim(), `${this.name}: the dump command exited with ${code}: ${stderr.trim()}`));
      });
    });
    return { stream: child.stdout, info };
  }
}
