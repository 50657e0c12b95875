/** The worker thread of pool.ts: runs one target's lanes on the indices the shared counter hands out. */
import { parentPort, workerData } from 'node:worker_threads';
import type { LaneContext, LaneTarget, WorkerData, WorkerMessage } from './pool.js';

const d = workerData as WorkerData<unknown>;
const next = new Int32Array(d.next);
const busy = new Float64Array(d.busy);
const retry = [...d.retry];
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
/** Epoch ms with a fraction: two lanes that start in the same millisecond are still told apart. */
const now = () => performance.timeOrigin + performance.now();
// The heartbeat: stale while an input holds the thread (synchronous code that never returns).
setInterval(() => (busy[d.lanes * 2] = now()), 250).unref();

const ctx: LaneContext<unknown> = {
  seed: d.seed,
  lanes: d.lanes,
  worker: d.worker,
  setup: d.setup,
  take(lane) {
    let index = retry.shift();
    if (index === undefined) {
      if (Date.now() >= d.deadline) return undefined;
      const n = Atomics.add(next, 0, 1);
      if (n >= d.inputs) return undefined;
      index = n;
    }
    busy[lane * 2 + 1] = now();
    busy[lane * 2] = index;
    return index;
  },
  record(lane, index, outcome, input, counts) {
    busy[lane * 2] = -1;
    // The input travels only when it is needed: a failure's reproduction.
    post({ t: 'input', index, outcome, ...(outcome.kind === 'crash' || outcome.kind === 'hang' ? { input: input() } : {}), ...(counts ? { counts } : {}) });
  },
  log: (line) => post({ t: 'log', line }),
};

const mod = (await import(d.module)) as Record<string, LaneTarget<unknown>>;
await mod[d.entry]!(ctx);
post({ t: 'end' });
