/**
 * Per-key backoff: after `free` failures each further one makes the key wait longer (doubling
 * from baseMs, capped at maxMs); a key quiet for forgetMs starts afresh. In memory: a restart
 * forgets, which costs an abuser a restart, not a bypass. The one back-off of both programs: the
 * hub's wrong console passwords (users/throttle.ts) and sites that send too many refused messages
 * (limits/refusals.ts); the agent's wrong PINs on the technician page (page/server.ts).
 */
export interface BackoffOptions {
  /** Failures before the first wait (the free-th failure starts waiting baseMs). */
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

/** Entries kept before the forgotten ones are pruned (each is a few dozen bytes). */
const PRUNE_AT = 100_000;

export class Backoff {
  private readonly entries = new Map<string, Entry>();
  constructor(private readonly opts: BackoffOptions) {}

  /** Milliseconds `key` must still wait (0: go ahead). */
  waitMs(key: string, now = Date.now()): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    if (now - e.last > this.opts.forgetMs) {
      this.entries.delete(key);
      return 0;
    }
    const over = e.failures - this.opts.free;
    if (over < 0) return 0;
    return Math.max(0, e.last + Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** over) - now);
  }

  /** Records a failure; returns how many `key` has had (since it was last forgotten). */
  failed(key: string, now = Date.now()): number {
    const old = this.entries.get(key);
    const e = old && now - old.last <= this.opts.forgetMs ? old : { failures: 0, last: now };
    e.failures++;
    e.last = now;
    this.entries.set(key, e);
    if (this.entries.size > PRUNE_AT) this.prune(now);
    return e.failures;
  }

  clear(key: string): void {
    this.entries.delete(key);
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) if (now - e.last > this.opts.forgetMs) this.entries.delete(k);
  }
}
