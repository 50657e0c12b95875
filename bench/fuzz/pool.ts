/**
 * Runs an in-process target's inputs in worker threads, one per core, each with several lanes
 * (inputs under way at once: a target that waits on the file system overlaps its waits). Workers
 * take indices from one shared counter, so that input i is the same input whatever the number of
 * workers, and send each outcome to this thread's one Tally.
 *
 * What the campaign cannot do in the thread that runs an input, this thread does:
 * - a lane stuck on one input (synchronous code that never yields, so no timer in its own thread
 *   fires): its worker is stopped and replaced, and the replacement tries that input and those its
 *   other lanes had under way again; the input is a hang when it stalls a worker twice;
 * - an exception nothing caught (thrown from a callback of the code under test), or the worker
 *   exiting, is a crash of every input it had under way; it is replaced as well.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { campaign, Tally, timeBudgetEnd, type Outcome, type TargetReport } from './tally.js';

/** What the worker side of a target is given. */
export interface LaneContext<S> {
  seed: number;
  lanes: number;
  /** This worker's number (0…), for its lanes' folder names. */
  worker: number;
  /** The target's fixture, made once by the main thread. */
  setup: S;
  /** The next input for `lane`; undefined when there is none left (or the time budget is spent). */
  take(lane: number): number | undefined;
  /** The end of an input: its outcome, the reproducing input (made and kept only for crashes and hangs), figures to add to the report. */
  record(lane: number, index: number, outcome: Outcome, input: () => string, counts?: Record<string, number>): void;
  log(line: string): void;
}

/**
 * The worker side's loop: each of this worker's lanes takes the next index from the shared counter
 * and runs it with the function `forLane` made for that lane (which may keep state of its own,
 * such as a copy of the fixture), one input at a time, until none is left.
 */
export async function eachLane<S>(ctx: LaneContext<S>, forLane: (lane: number) => (index: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: ctx.lanes }, (_, lane) => campaign(() => ctx.take(lane), 1, forLane(lane))));
}

/** A target's worker side: runs its lanes until `take` has nothing left. */
export type LaneTarget<S> = (ctx: LaneContext<S>) => Promise<void>;

export interface PoolJob<S> {
  target: string;
  /** The module (its URL) and the name of its LaneTarget export. */
  module: string;
  entry: string;
  inputs: number;
  seed: number;
  lanes: number;
  /** An input that holds its lane this long is a hang, caught here when its own thread cannot. */
  stuckMs: number;
  setup: S;
  failureFile: string;
  log: (line: string) => void;
  /** Default: one per core. */
  workers?: number;
}

export interface WorkerData<S> {
  module: string;
  entry: string;
  inputs: number;
  seed: number;
  lanes: number;
  worker: number;
  setup: S;
  deadline: number;
  /** Int32 [next index]. */
  next: SharedArrayBuffer;
  /** Float64 [index, start ms] per lane (index -1: idle), then the worker's heartbeat (ms). */
  busy: SharedArrayBuffer;
  /** Indices to try first: those a replaced worker had under way. */
  retry: number[];
}

export type WorkerMessage =
  | { t: 'input'; index: number; outcome: Outcome; input?: string; counts?: Record<string, number> }
  | { t: 'log'; line: string }
  | { t: 'end' };

/** A worker is replaced at most this many times: past it, the target itself is broken. */
const MAX_REPLACEMENTS = 20;

export async function runInWorkers<S>(job: PoolJob<S>): Promise<TargetReport> {
  const tally = new Tally(job.target, job.seed, job.failureFile);
  const next = new SharedArrayBuffer(4);
  const count = Math.max(1, job.workers ?? availableParallelism());
  const deadline = timeBudgetEnd();
  const step = Math.max(1000, Math.round(job.inputs / 20));
  let replacements = 0;
  job.log(`fuzz ${job.target}: ${count} worker threads × ${job.lanes} lanes`);

  interface Live {
    worker: Worker;
    busy: Float64Array;
    id: number;
    /** Stopped or failed, and already replaced. */
    replaced: boolean;
    /** Indices it was given to try again and has not answered yet (a lane may not have taken them). */
    retry: Set<number>;
  }
  const live = new Set<Live>();
  let done!: () => void;
  const allDone = new Promise<void>((r) => (done = r));
  let nextId = 0;

  /** Inputs that held a stopped worker once: tried again before they are called hangs. */
  const suspects = new Set<number>();
  const underWay = (busy: Float64Array): number[] => Array.from({ length: job.lanes }, (_, l) => busy[l * 2]!).filter((i) => i >= 0);
  const inputOf = (i: number) => `(seed ${job.seed}, ${job.target} input ${i})`;

  /** Replaces `e` by a new worker that first tries `retry`. */
  const replace = (e: Live, retry: number[]): void => {
    e.replaced = true;
    if (++replacements > MAX_REPLACEMENTS) {
      if (replacements === MAX_REPLACEMENTS + 1) job.log(`fuzz ${job.target}: more than ${MAX_REPLACEMENTS} workers lost; stopping here (inputs in ${job.failureFile})`);
      Atomics.store(new Int32Array(next), 0, job.inputs);
      return;
    }
    start(retry);
  };

  const start = (retry: number[]): void => {
    const busy = new Float64Array(new SharedArrayBuffer(job.lanes * 16 + 8)).fill(-1);
    busy[job.lanes * 2] = Date.now();
    const id = nextId++;
    const data: WorkerData<S> = { module: job.module, entry: job.entry, inputs: job.inputs, seed: job.seed, lanes: job.lanes, worker: id, setup: job.setup, deadline, next, busy: busy.buffer as SharedArrayBuffer, retry };
    const e: Live = { worker: new Worker(new URL('./lane-worker.js', import.meta.url), { workerData: data }), busy, id, replaced: false, retry: new Set(retry) };
    live.add(e);
    let ended = false;
    e.worker.on('message', (m: WorkerMessage) => {
      if (m.t === 'log') job.log(m.line);
      else if (m.t === 'end') ended = true;
      else {
        e.retry.delete(m.index);
        const before = tally.report.inputs;
        tally.add(m.index, m.outcome, m.input ?? inputOf(m.index));
        for (const [k, v] of Object.entries(m.counts ?? {})) tally.count(k, v);
        if (Math.floor(tally.report.inputs / step) > Math.floor(before / step)) job.log(`fuzz ${job.target}: ${tally.report.inputs} inputs… (${tally.report.crashes} crashes, ${tally.report.hangs} hangs so far)`);
      }
    });
    // Thrown where no lane could catch it, or the thread gone: every input under way is suspect.
    const lost = (what: string): void => {
      if (e.replaced) return;
      const suspects = underWay(busy);
      for (const i of suspects) tally.add(i, { kind: 'crash', detail: `${what} while inputs ${suspects.join(', ')} were under way` }, inputOf(i));
      replace(e, [...e.retry].filter((i) => !suspects.includes(i)));
    };
    e.worker.on('error', (err) => lost(`uncaught in worker ${id}: ${err.stack ?? String(err)}\n`));
    e.worker.on('exit', (code) => {
      live.delete(e);
      if (!ended) lost(`worker ${id} exited (code ${code})`);
      if (live.size === 0) done();
    });
  };

  /**
   * A lane that has held one input too long: a hang; the others' inputs go to the replacement. When
   * the thread itself stopped (no heartbeat), every lane looks stuck: the culprit is the input that
   * started last, as the others were waiting (for a CLI run, a file) when it took the thread.
   */
  const stop = (e: Live, lane: number): void => {
    const blocked = Date.now() - e.busy[job.lanes * 2]! > job.stuckMs;
    const lanes = Array.from({ length: job.lanes }, (_, l) => l).filter((l) => e.busy[l * 2]! >= 0);
    const culprit = blocked ? lanes.reduce((a, b) => (e.busy[b * 2 + 1]! > e.busy[a * 2 + 1]! ? b : a), lane) : lane;
    const index = e.busy[culprit * 2]!;
    const others = [...new Set([...underWay(e.busy), ...e.retry])].filter((i) => i !== index);
    // A loaded machine can hold a thread that long too: an input is a hang when it does it twice.
    if (!suspects.has(index)) {
      suspects.add(index);
      replace(e, [index, ...others]);
    } else {
      const how = blocked ? 'without yielding (its thread stopped)' : 'while its thread went on';
      tally.add(index, { kind: 'hang', detail: `input ${index} held its lane for over ${job.stuckMs} ms ${how}, twice; worker ${e.id} was stopped` }, inputOf(index));
      replace(e, others);
    }
    void e.worker.terminate();
  };

  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const e of live) {
      if (e.replaced) continue;
      const lane = Array.from({ length: job.lanes }, (_, l) => l).find((l) => e.busy[l * 2]! >= 0 && now - e.busy[l * 2 + 1]! > job.stuckMs);
      if (lane !== undefined) stop(e, lane);
    }
  }, 1000);
  try {
    for (let w = 0; w < count; w++) start([]);
    await allDone;
  } finally {
    clearInterval(watchdog);
  }
  if (suspects.size) tally.count('inputs that stalled a worker once (tried again)', suspects.size);
  return tally.finish();
}
