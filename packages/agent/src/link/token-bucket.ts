/** Rate limit for draining a backlog: `ratePerSecond` on average, bursts of at most one second's worth. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  readonly capacity: number;

  constructor(
    readonly ratePerSecond: number,
    now = Date.now(),
  ) {
    this.capacity = Math.max(1, ratePerSecond);
    this.tokens = this.capacity;
    this.last = now;
  }

  available(now = Date.now()): number {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    return this.tokens;
  }

  take(n: number, now = Date.now()): void {
    this.available(now);
    this.tokens -= n;
  }

  /** Milliseconds until one whole token is available. */
  msUntilNext(now = Date.now()): number {
    const missing = 1 - this.available(now);
    return missing <= 0 ? 0 : Math.ceil((missing / this.ratePerSecond) * 1000);
  }
}
