/**
 * The fuzz campaign's worker pool (bench/fuzz/pool.ts) must itself hold against what it looks for:
 * an input that never yields is a hang (its worker stopped and replaced, the inputs its other lanes
 * had under way tried again), an exception nothing caught is a crash of the inputs under way, and
 * every input is counted exactly once.
 */
import t from 'tap';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import type { PoolSelfTest } from './fuzz-pool-target.js';

type Pool = typeof import('../bench/fuzz/pool.js');
const { runInWorkers } = (await import(new URL('../../bench/dist/fuzz/pool.js', import.meta.url).href)) as Pool;

t.test('a synchronous hang and an uncaught throw are caught, and every input is counted once', async (t) => {
  const dir = tempDir('fuzz-pool');
  t.teardown(dir.remove);
  const failureFile = join(dir.path, 'failures.jsonl');
  const r = await runInWorkers<PoolSelfTest>({
    target: 'self-test',
    module: new URL('./fuzz-pool-target.js', import.meta.url).href,
    entry: 'poolSelfTest',
    inputs: 200,
    seed: 1,
    lanes: 2,
    workers: 2,
    stuckMs: 2000,
    setup: { hangAt: 37, throwAt: 120 },
    failureFile,
    log: (line) => t.comment(line),
  });
  t.equal(r.inputs, 200, 'every input counted once');
  t.equal(r.hangs, 1, 'one hang');
  const failures = readFileSync(failureFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { index: number; kind: string; detail: string });
  t.match(failures.find((f) => f.kind === 'hang'), { index: 37, detail: /held its lane for over 2000 ms without yielding \(its thread stopped\)/ }, 'the hang names its input');
  t.match(failures.find((f) => f.index === 120), { kind: 'crash', detail: /uncaught in worker \d+: Error: a stray callback threw at input 120/ }, 'the throw is a crash of the input under way');
  t.ok(r.crashes >= 1 && r.crashes <= 2, `only the inputs under way when it threw are crashes (${r.crashes})`);
  t.equal(r.accepted + (r.refusals.odd ?? 0) + r.crashes + r.hangs, 200);
});
