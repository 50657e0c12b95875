/** What one target's campaign counts, and where a failing input is written down for reproduction. */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type Outcome =
  | { kind: 'accepted' }
  | { kind: 'refused'; why: string }
  /** The program died, threw something that is not its refusal, answered 5xx, or lost data. */
  | { kind: 'crash'; detail: string }
  /** Neither answered nor refused within the time limit while otherwise healthy. */
  | { kind: 'hang'; detail: string };

export interface Failure {
  target: string;
  seed: number;
  index: number;
  kind: 'crash' | 'hang';
  detail: string;
  /** The reproducing input: hex for bytes, text for text. */
  input: string;
}

export interface TargetReport {
  target: string;
  inputs: number;
  crashes: number;
  hangs: number;
  accepted: number;
  refusals: Record<string, number>;
  seconds: number;
  /** Extra figures of the target (the MQTT target's other-site ack latency). */
  extra: Record<string, number>;
  failures: Failure[];
}

export class Tally {
  readonly report: TargetReport;
  private readonly t0 = process.hrtime.bigint();

  constructor(
    target: string,
    private readonly seed: number,
    /** The file failing inputs are appended to (one JSON line each). */
    private readonly failureFile: string,
  ) {
    this.report = { target, inputs: 0, crashes: 0, hangs: 0, accepted: 0, refusals: {}, seconds: 0, extra: {}, failures: [] };
  }

  add(index: number, outcome: Outcome, input: Buffer | string): void {
    const r = this.report;
    r.inputs++;
    if (outcome.kind === 'accepted') r.accepted++;
    else if (outcome.kind === 'refused') r.refusals[outcome.why] = (r.refusals[outcome.why] ?? 0) + 1;
    else {
      if (outcome.kind === 'crash') r.crashes++;
      else r.hangs++;
      const f: Failure = {
        target: r.target,
        seed: this.seed,
        index,
        kind: outcome.kind,
        detail: outcome.detail.slice(0, 4000),
        input: typeof input === 'string' ? input : input.toString('hex'),
      };
      // Only the first few are kept in memory; every one goes to the file.
      if (r.failures.length < 20) r.failures.push(f);
      mkdirSync(dirname(this.failureFile), { recursive: true });
      appendFileSync(this.failureFile, `${JSON.stringify(f)}\n`);
    }
  }

  /** Adds to one of the target's extra figures. */
  count(figure: string, n = 1): void {
    this.report.extra[figure] = (this.report.extra[figure] ?? 0) + n;
  }

  finish(): TargetReport {
    this.report.seconds = Number(process.hrtime.bigint() - this.t0) / 1e9;
    return this.report;
  }
}

/** A campaign's time budget (FUZZ_SECONDS): a target stops there and reports the inputs it tried. */
let deadline = Infinity;
export function setTimeBudget(seconds: number | undefined): void {
  deadline = seconds ? Date.now() + seconds * 1000 : Infinity;
}

/** When the time budget ends (ms since the epoch; Infinity: none), for worker threads, which do not share this module's state. */
export function timeBudgetEnd(): number {
  return deadline;
}

/**
 * Runs inputs `parallel` at a time, each through `one`: the indices 0…count-1, or those `take`
 * hands out (a worker thread's share); stops early when `stop()` says so or the time budget is spent.
 */
export async function campaign(count: number | (() => number | undefined), parallel: number, one: (index: number) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  let next = 0;
  const take = typeof count === 'function' ? count : () => (next < count && Date.now() < deadline ? next++ : undefined);
  const lane = async () => {
    for (let i = stop() ? undefined : take(); i !== undefined; i = stop() ? undefined : take()) await one(i);
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, lane));
}

/** `p`, or what `late()` says when `p` has not settled within `ms`. */
export async function within<T>(p: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((r) => (timer = setTimeout(() => r(late()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * CPU time of the calling thread in ms (Linux: /proc/thread-self/stat, in 10 ms ticks), else wall
 * time. A synchronous step is a hang by the CPU it spent: on a loaded machine its wall time says
 * more about the other processes than about it.
 */
export function threadCpuMs(): number {
  try {
    const fields = readFileSync('/proc/thread-self/stat', 'latin1').split(') ')[1]!.split(' ');
    // utime and stime are the stat file's fields 14 and 15: 12 and 13 after "pid (comm) ".
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return performance.now();
  }
}
