/**
 * The scheduler: faults at random moments (seeded, so a run can be repeated), several at once on
 * different resources. The first round takes every kind once, in a random order, so that even a
 * short campaign covers them all; after that each fault is of a random kind on a random agent.
 */
import { sleep } from '@sentinela/tools/harness/wait.js';
import { FAULT_KINDS, INJECTORS, type FaultKind, type Random } from './injectors.js';
import type { AgentRig, Rig } from './rig.js';

export interface CampaignOptions {
  faults: number;
  /** Mean pause between two fault starts (exponential, like independent events). */
  meanGapMs: number;
  /** Faults under way at once, at most. */
  concurrent: number;
  log: (line: string) => void;
  /** Called about once a second while the campaign runs (the ledger samples the outboxes). */
  tick?: () => void;
}

export interface Injected {
  kind: FaultKind;
  target: string;
  /** What it held (INJECTORS[kind].resources): `hub`, `ups`, or `<what>:<agent index>`. */
  resources: string[];
  /** When it started and when it was mended (epoch ms). */
  startedAt: number;
  endedAt: number;
  detail: string;
  error?: string;
}

function shuffled<T>(items: readonly T[], r: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export async function runCampaign(rig: Rig, r: Random, opts: CampaignOptions): Promise<Injected[]> {
  const busy = new Set<string>();
  const running = new Set<Promise<void>>();
  const done: Injected[] = [];
  const firstRound = shuffled(FAULT_KINDS, r);
  const ticker = opts.tick ? setInterval(opts.tick, 1000) : null;
  let started = 0;
  // Faults that could not be injected (an error) are tried again with another: the target counts injected ones.
  const failed = () => done.filter((f) => f.error).length;
  try {
    while (started - failed() < opts.faults) {
      const pick = choose(rig.agents, busy, r, firstRound.length ? firstRound[0]! : null);
      if (!pick || running.size >= opts.concurrent) {
        await Promise.race([sleep(100), ...running]);
        continue;
      }
      if (firstRound[0] === pick.kind) firstRound.shift();
      const { kind, agent, resources } = pick;
      for (const res of resources) busy.add(res);
      started++;
      const n = started;
      const startedAt = Date.now();
      const job = INJECTORS[kind]
        .run(rig, agent, r)
        .then(
          (detail) => void done.push({ kind, target: resources.join(' '), resources, startedAt, endedAt: Date.now(), detail }),
          (err: Error) => void done.push({ kind, target: resources.join(' '), resources, startedAt, endedAt: Date.now(), detail: '', error: err.message }),
        )
        .finally(() => {
          for (const res of resources) busy.delete(res);
          running.delete(job);
          const last = done[done.length - 1]!;
          opts.log(`faults: #${n} ${kind} on ${resources.join(' ')}: ${last.error ? `ERROR ${last.error}` : last.detail}`);
        });
      running.add(job);
      await sleep(-Math.log(1 - r()) * opts.meanGapMs);
      // The last ones: wait for them, then make up for any that failed.
      if (started - failed() >= opts.faults) await Promise.all(running);
    }
  } finally {
    if (ticker) clearInterval(ticker);
  }
  return done;
}

/** A kind (the one the first round wants next, if it can run now) and an agent whose resources are free. */
function choose(agents: AgentRig[], busy: Set<string>, r: Random, wanted: FaultKind | null): { kind: FaultKind; agent: AgentRig; resources: string[] } | null {
  const kinds = wanted ? [wanted] : shuffled(FAULT_KINDS, r);
  for (const kind of kinds) {
    for (const agent of shuffled(agents, r)) {
      const resources = INJECTORS[kind].resources(agent);
      if (resources.every((res) => !busy.has(res))) return { kind, agent, resources };
    }
  }
  return null;
}
