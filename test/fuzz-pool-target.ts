/**
 * A target for test/fuzz-pool.test.ts: the pool's worker side with the faults a fuzzed program can
 * have: input `hangAt` never yields (a synchronous loop), input `throwAt` throws from a callback no
 * lane can catch; every other input is refused when odd, accepted when even.
 */
import type { LaneContext } from '../bench/fuzz/pool.js';

export interface PoolSelfTest {
  hangAt: number;
  throwAt: number;
}

export async function poolSelfTest(ctx: LaneContext<PoolSelfTest>): Promise<void> {
  await Promise.all(
    Array.from({ length: ctx.lanes }, async (_, lane) => {
      for (let i = ctx.take(lane); i !== undefined; i = ctx.take(lane)) {
        if (i === ctx.setup.hangAt) for (;;);
        if (i === ctx.setup.throwAt) {
          setImmediate(() => {
            throw new Error(`a stray callback threw at input ${i}`);
          });
          await new Promise((r) => setTimeout(r, 1000));
        }
        await new Promise((r) => setTimeout(r, 1));
        ctx.record(lane, i, i % 2 ? { kind: 'refused', why: 'odd' } : { kind: 'accepted' }, () => `input ${i}`);
      }
    }),
  );
}
