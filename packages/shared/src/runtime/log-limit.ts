/**
 * Log lines that outsiders can cause (refused logins, packets, messages at the hub) or that a
 * lasting condition repeats (the agent's health sample on a full disk) are rate-limited per source
 * and bounded in size: a flood of junk must not become a flood of journald lines, nor a
 * 60,000-character client id a 60,000-character line. Per key (a site, an address, a failure) the
 * first `perWindow` lines of each window are written; the rest are counted, and one summary line
 * says how many were held back when the window ends.
 */
import type { Logger } from './logger.js';
import { WindowCounter } from './window-counter.js';

/** The longest a string a client chose (client id, topic, error text) is written in a log line. */
export const CLIP_CHARS = 200;
/** The longest a whole message is written. */
const MSG_CHARS = 1000;

/** `s` cut to `max` characters, saying how long it was: a log line stays bounded and still tells. */
export function clip(s: string, max = CLIP_CHARS): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length} characters)`;
}

function clipFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = typeof v === 'string' ? clip(v) : v;
  return out;
}

export interface LogLimitOptions {
  perWindow: number;
  windowMs: number;
  now?: () => number;
  /** Said at the end of each summary line (e.g. where every occurrence is still counted). */
  note?: string;
}

export class RateLimitedLog {
  private readonly counter: WindowCounter;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(
    private readonly log: Logger,
    private readonly opts: LogLimitOptions = { perWindow: 10, windowMs: 60_000 },
  ) {
    this.counter = new WindowCounter(opts.windowMs);
    this.now = opts.now ?? Date.now;
    // Summaries of windows that ended with no line since (the source went quiet).
    this.timer = setInterval(() => this.counter.sweep(this.now(), this.summarise), opts.windowMs);
    this.timer.unref();
  }

  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    this.write('warn', key, fields, msg);
  }

  info(key: string, fields: Record<string, unknown>, msg: string): void {
    this.write('info', key, fields, msg);
  }

  error(key: string, fields: Record<string, unknown>, msg: string): void {
    this.write('error', key, fields, msg);
  }

  /** Writes what is held back, and stops the timer. */
  close(): void {
    clearInterval(this.timer);
    this.counter.sweep(this.now(), this.summarise, true);
  }

  private write(level: 'error' | 'warn' | 'info', key: string, fields: Record<string, unknown>, msg: string): void {
    const c = this.counter.add(key, this.now());
    if (c.ended > 0) this.summarise(c.key, c.ended);
    if (c.n <= this.opts.perWindow) this.log[level](clipFields(fields), clip(msg, MSG_CHARS));
  }

  private readonly summarise = (key: string, n: number): void => {
    const held = n - this.opts.perWindow;
    if (held <= 0) return;
    const seconds = Math.round(this.opts.windowMs / 1000);
    this.log.warn(
      { source: clip(key), suppressed: held, windowSeconds: seconds },
      `${held} more log lines about ${clip(key)} held back in the last ${seconds} s (at most ${this.opts.perWindow} a window per source${this.opts.note ? `; ${this.opts.note}` : ''})`,
    );
  };
}
