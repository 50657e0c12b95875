/**
 * A small seeded generator (mulberry32): every input of a campaign is derived from (seed, target,
 * index) alone, so one failing input is reproduced from the three numbers the report prints.
 */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** The generator for input `index` of `target` in the campaign `seed`. */
  static forInput(seed: number, target: string, index: number): Rng {
    let h = (seed ^ 0x9e3779b9) >>> 0;
    for (const c of `${target}:${index}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    return new Rng(h);
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  /** Small sizes much more often than large ones (1, 2, 4… up to `max`). */
  size(max: number): number {
    return Math.min(max, this.below(1 << this.below(Math.ceil(Math.log2(max + 1)) + 1)) + 1);
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.below(256);
    return b;
  }
}
