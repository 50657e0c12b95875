/** Seeded randomness for benchmarks: the same sequence on every machine, so a run can be repeated. */

/** sfc32: a small, fast, seedable PRNG (the same sequence on every machine). */
export function prng(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed,
    b = 0x243f6a88 + seed,
    c = 0xb7e15162 ^ (seed * 7),
    d = seed | 1;
  const next = () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  return next;
}
