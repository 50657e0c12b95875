/** A logger for an agent or hub run in-process by a system test, its JSON lines kept for assertions. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@sentinela/shared';

export type LogLine = Record<string, unknown>;

export function capturedLogger(name: string, level: 'debug' | 'info' | 'warn' = 'debug'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  return { logger: createLogger(name, level, sink), lines };
}
