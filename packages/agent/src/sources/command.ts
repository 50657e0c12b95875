/**
 * Any program that writes a dump to stdout (mongodump --archive, a vendor's export script, …). Its
 * exit code decides: anything but 0 fails the dump with the program's stderr.
 */
import { basename } from 'node:path';
import type { BackupSourceConfig } from '@sentinela/shared';
import { streamTool } from './process.js';
import type { Dump, Source } from './source.js';

type Config = Extract<BackupSourceConfig, { kind: 'command' }>;

export class CommandSource implements Source {
  readonly kind = 'command' as const;
  readonly name: string;
  readonly tokenizer: 'lines' | 'chunks';
  constructor(private readonly config: Config) {
    this.name = config.name;
    this.tokenizer = config.tokenizer;
  }

  dump(): Dump {
    const [command, ...args] = this.config.command as [string, ...string[]];
    const run = streamTool({ source: this.name, command, args });
    // Arbitrary programs have no common --version: the manifest records what ran.
    const info = run.done.then(() => ({ tool: { name: basename(command), version: this.config.command.join(' ') } }));
    info.catch(() => undefined);
    return { stream: run.stream, info };
  }
}
