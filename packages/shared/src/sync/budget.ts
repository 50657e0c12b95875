/**
 * The byte budget of backup data: a rate cap (bytes/s, none when absent) and the daily windows.
 * A piece may be sent whenever the budget is not in debt; it then costs its size, so the average
 * holds whatever the piece size (the agent's link TokenBucket caps bursts below one piece).
 */
import { inWindow } from '../config/agent-offsite.js';

export class ByteBudget {
  private tokens = 0;
  private last = Date.now();

  constructor(
    private readonly rate: number | undefined,
    private readonly windows: readonly string[],
  ) {}

  open(now = new Date()): boolean {
    return inWindow(this.windows, now);
  }

  /** Milliseconds to wait before the next piece (0: now). */
  wait(now = Date.now()): number {
    if (!this.rate) return 0;
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }

  take(bytes: number): void {
    if (this.rate) this.tokens -= bytes;
  }
}
