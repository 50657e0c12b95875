/** Counts per key in fixed windows: the rate limits of refusal logs and of refused messages per site. */

/** Keys tracked at once; beyond, new keys share one (many addresses cannot grow the map). */
const MAX_KEYS = 10_000;
export const OTHER_KEYS = 'other sources';

interface Window {
  start: number;
  n: number;
}

export class WindowCounter {
  private readonly windows = new Map<string, Window>();
  constructor(readonly windowMs: number) {}

  /**
   * Counts one for `key` (another key when the map is full: returned as `key`); `n` is its count in
   * the current window, `ended` the count of its previous window when this one began with this hit.
   */
  add(key: string, now: number): { key: string; n: number; ended: number } {
    const k = this.windows.has(key) || this.windows.size < MAX_KEYS ? key : OTHER_KEYS;
    let w = this.windows.get(k);
    let ended = 0;
    if (w && now - w.start >= this.windowMs) {
      ended = w.n;
      w = undefined;
    }
    if (!w) this.windows.set(k, (w = { start: now, n: 0 }));
    w.n++;
    return { key: k, n: w.n, ended };
  }

  /** Starts `key` afresh. */
  reset(key: string): void {
    this.windows.delete(key);
  }

  /** Forgets the windows that ended (all with `all`), telling `onEnd` each one's count. */
  sweep(now: number, onEnd: (key: string, n: number) => void, all = false): void {
    for (const [k, w] of this.windows) {
      if (!all && now - w.start < this.windowMs) continue;
      this.windows.delete(k);
      onEnd(k, w.n);
    }
  }
}
