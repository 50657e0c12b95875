/** Progress of long work on stderr: one line rewritten in place on a terminal, a line every few seconds otherwise. */
import type { Io } from './io.js';
import { formatBytes, type Progress } from '../runtime/progress.js';

export { formatBytes, type Progress };

export function progressLine(what: string, p: Progress): string {
  const pct = p.totalBytes ? ` (${Math.floor((100 * p.doneBytes) / p.totalBytes)} %)` : '';
  const items = p.totalItems !== undefined ? ` ${p.doneItems ?? 0}/${p.totalItems}` : p.doneItems !== undefined ? ` ${p.doneItems}` : '';
  // Work counted in items only (checks, sites) has no bytes to show.
  const bytes = p.doneBytes || p.totalBytes ? ` ${formatBytes(p.doneBytes)}${p.totalBytes ? ` of ${formatBytes(p.totalBytes)}` : ''}${pct}` : '';
  return `${what}: ${p.phase}${items}${bytes}`;
}

export interface ProgressPrinter {
  update(p: Progress): void;
  done(): void;
}

/** `quiet` (a --json run) prints nothing: stdout stays one document and stderr stays clean for scripts. */
export function progressPrinter(io: Io, what: string, opts: { isTty?: boolean; quiet?: boolean } = {}): ProgressPrinter {
  const isTty = opts.isTty ?? process.stderr.isTTY === true;
  let last = 0;
  let shown = false;
  const every = isTty ? 200 : 5000;
  return {
    update(p) {
      if (opts.quiet) return;
      const now = Date.now();
      if (now - last < every) return;
      last = now;
      const text = progressLine(what, p);
      if (isTty) process.stderr.write(`\r\x1b[K${text}`);
      else io.err(text);
      shown = true;
    },
    done() {
      if (isTty && shown) process.stderr.write('\r\x1b[K');
    },
  };
}
