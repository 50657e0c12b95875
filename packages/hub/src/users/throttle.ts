/**
 * Login throttle: after a few wrong passwords for one user from one address, each further attempt
 * of that user from that address must wait longer (doubling, capped), and is answered 429 with
 * Retry-After without checking the password. Keyed by user and address together: behind a reverse
 * proxy, or in a clinic behind one NAT, one person's typos must not lock out everyone else there.
 * Two wider keys with a larger allowance stop the attacks the pair key alone would let through:
 * one address trying many accounts, and many addresses guessing one account.
 */
import { Backoff, type BackoffOptions } from '@sentinela/shared';

export interface ThrottleOptions extends BackoffOptions {
  /** Failures allowed per address (any user) and per user (any address) before those keys wait too. */
  wideFree?: number;
}

export class LoginThrottle {
  private readonly pair: Backoff;
  private readonly wide: Backoff;
  constructor(opts: ThrottleOptions = { free: 3, baseMs: 1000, maxMs: 5 * 60_000, forgetMs: 15 * 60_000 }) {
    this.pair = new Backoff(opts);
    this.wide = new Backoff({ ...opts, free: opts.wideFree ?? opts.free * 10 });
  }

  private static pairKey(user: string, ip: string): string {
    return `${user.toLowerCase()}\u0000${ip}`;
  }

  /** Milliseconds to wait before this attempt may be checked (0: go ahead). */
  waitMs(user: string, ip: string, now = Date.now()): number {
    return Math.max(this.pair.waitMs(LoginThrottle.pairKey(user, ip), now), this.wide.waitMs(`u:${user.toLowerCase()}`, now), this.wide.waitMs(`a:${ip}`, now));
  }

  failed(user: string, ip: string, now = Date.now()): void {
    this.pair.failed(LoginThrottle.pairKey(user, ip), now);
    this.wide.failed(`u:${user.toLowerCase()}`, now);
    this.wide.failed(`a:${ip}`, now);
  }

  /** The right password forgives this user's mistakes (from anywhere); the address's count stays. */
  succeeded(user: string, ip: string): void {
    this.pair.clear(LoginThrottle.pairKey(user, ip));
    this.wide.clear(`u:${user.toLowerCase()}`);
  }
}
