/** Progress of long work on stderr: one line rewritten in place on a terminal, a line every few seconds otherwise. */
import type { Progress } from '../repository/api.js';
import { formatBytes } from './format-bytes.js';
import type { Io } from './io.js';

export function progressPrinter(io: Io, what: string, isTty = process.stderr.isTTY === true): { update(p: Progress): void; done(): void } {
  let last = 0;
  let shown = false;
  const every = isTty ? 200 : 5000;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < every) return;
      last = now;
      const pct = p.totalBytes ? ` (${Math.floor((100 * p.doneBytes) / p.totalBytes)} %)` : '';
      const items = p.totalItems !== undefined ? ` ${p.doneItems ?? 0}/${p.totalItems}` : p.doneItems !== undefined ? ` ${p.doneItems}` : '';
      const line = `${what}: ${p.phase}${items} ${formatBytes(p.doneBytes)}${p.totalBytes ? ` of ${formatBytes(p.totalBytes)}` : ''}${pct}`;
      if (isTty) process.stderr.write(`\r\x1b[K${line}`);
      else io.err(line);
      shown = true;
    },
    done() {
      if (isTty && shown) process.stderr.write('\r\x1b[K');
    },
  };
}
