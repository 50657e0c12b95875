/**
 * Login throttle: after a few wrong passwords for the same user name or from the same
 * address, each further attempt must wait longer (doubling, capped), and is answered 429
 * with Retry-After without checking the password. Per user stops guessing one account from
 * many addresses; per address stops trying many accounts from one. In memory: a restart
 * forgets, which costs an attacker a restart of the hub, not a bypass.
 */
export interface ThrottleOptions {
  /** Wrong passwords allowed before any wait. */
  free: number;
  baseMs: number;
  maxMs: number;
  /** Failures older than this are forgotten. */
  forgetMs: number;
}

interface Entry {
  failures: number;
  last: number;
}

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();
  constructor(private readonly opts: ThrottleOptions = { free: 3, baseMs: 1000, maxMs: 5 * 60_000, forgetMs: 15 * 60_000 }) {}

  private keys(user: string, ip: string): string[] {
    return [`u:${user.toLowerCase()}`, `a:${ip}`];
  }

  /** Milliseconds to wait before this attempt may be checked (0: go ahead). */
  waitMs(user: string, ip: string, now = Date.now()): number {
    let wait = 0;
    for (const key of this.keys(user, ip)) {
      const e = this.entries.get(key);
      if (!e) continue;
      if (now - e.last > this.opts.forgetMs) {
        this.entries.delete(key);
        continue;
      }
      const over = e.failures - this.opts.free;
      if (over < 0) continue;
      const delay = Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** over);
      wait = Math.max(wait, e.last + delay - now);
    }
    return Math.max(0, wait);
  }

  failed(user: string, ip: string, now = Date.now()): void {
    for (const key of this.keys(user, ip)) {
      const e = this.entries.get(key) ?? { failures: 0, last: now };
      e.failures++;
      e.last = now;
      this.entries.set(key, e);
    }
    if (this.entries.size > 100_000) this.prune(now);
  }

  succeeded(user: string): void {
    this.entries.delete(`u:${user.toLowerCase()}`);
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) if (now - e.last > this.opts.forgetMs) this.entries.delete(k);
  }
}
