/**
 * Milliseconds on a clock that only moves forward (the process's start on the wall clock plus the
 * monotonic time since): the drain's timers must not stop when someone or NTP sets the date.
 */
export const monotonicNow = (): number => performance.timeOrigin + performance.now();

/** Rate limit for draining a backlog: `ratePerSecond` on average, bursts of at most one second's worth. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  readonly capacity: number;

  constructor(
    readonly ratePerSecond: number,
    now = monotonicNow(),
  ) {
    this.capacity = Math.max(1, ratePerSecond);
    this.tokens = this.capacity;
    this.last = now;
  }

  available(now = monotonicNow()): number {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    return this.tokens;
  }

  take(n: number, now = monotonicNow()): void {
    this.available(now);
    this.tokens -= n;
  }

  /** Milliseconds until one whole token is available. */
  msUntilNext(now = monotonicNow()): number {
    const missing = 1 - this.available(now);
    return missing <= 0 ? 0 : Math.ceil((missing / this.ratePerSecond) * 1000);
  }
}
