/**
 * Login throttle: after a few wrong passwords for the same user name or from the same address,
 * each further attempt must wait longer (doubling, capped), and is answered 429 with Retry-After
 * without checking the password. Per user stops guessing one account from many addresses; per
 * address stops trying many accounts from one.
 */
import { Backoff, type BackoffOptions } from '../limits/backoff.js';

export type ThrottleOptions = BackoffOptions;

export class LoginThrottle {
  private readonly backoff: Backoff;
  constructor(opts: ThrottleOptions = { free: 3, baseMs: 1000, maxMs: 5 * 60_000, forgetMs: 15 * 60_000 }) {
    this.backoff = new Backoff(opts);
  }

  private keys(user: string, ip: string): string[] {
    return [`u:${user.toLowerCase()}`, `a:${ip}`];
  }

  /** Milliseconds to wait before this attempt may be checked (0: go ahead). */
  waitMs(user: string, ip: string, now = Date.now()): number {
    return Math.max(...this.keys(user, ip).map((k) => this.backoff.waitMs(k, now)));
  }

  failed(user: string, ip: string, now = Date.now()): void {
    for (const key of this.keys(user, ip)) this.backoff.failed(key, now);
  }

  succeeded(user: string): void {
    this.backoff.clear(`u:${user.toLowerCase()}`);
  }
}
