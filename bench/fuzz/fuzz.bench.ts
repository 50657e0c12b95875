/**
 * The fuzzing campaign (issue 18): structure-aware inputs at every place a Sentinela program reads
 * what someone else wrote. Each target counts its inputs, crashes (the program died, threw what is
 * not its refusal, answered 5xx or lost data), hangs (neither answered nor refused in time while
 * otherwise healthy), refusals by kind, and accepted inputs.
 *
 * Deterministic: FUZZ_SEED (default 18) and an input's index reproduce it; every failing input is
 * written with both to the failure file the report names. FUZZ_TARGETS=a,b runs only those targets;
 * FUZZ_INPUTS=N sets every target's size; FUZZ_SECONDS=S stops each target after S seconds (the
 * report then says how many inputs it tried, and at what rate).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResult } from '../lib/report.js';
import { fuzzDecoders } from './decoders.js';
import { fuzzMqtt } from './mqtt.js';
import { fuzzConfig } from './config.js';
import { fuzzRepository } from './repository.js';
import { fuzzHttp } from './http.js';
import { setTimeBudget, type TargetReport } from './tally.js';

export interface TargetRun {
  inputs: number;
  seed: number;
  failureFile: string;
  log: (line: string) => void;
}

export const TARGETS: Record<string, { about: string; quick: number; run: (o: TargetRun) => Promise<TargetReport> }> = {
  mqtt: { about: "MQTT packets at a real hub's listener, before CONNECT and after CONNACK, while another site publishes", quick: 1500, run: fuzzMqtt },
  config: { about: 'agent.yaml and hub.yaml through the real config loaders (and a sample through both CLIs: exit 2)', quick: 1000, run: fuzzConfig },
  repository: { about: 'a real repository (USB disk layout) with one file damaged at a time, through snapshots, verify, restore, copy and the disk scan', quick: 300, run: fuzzRepository },
  http: { about: "raw HTTP requests at a real hub's API and console, with a valid token, session and site credentials", quick: 1000, run: fuzzHttp },
  decoders: { about: 'payload decoders in process (decodeUp and its byte-level path, down, sync, relay)', quick: 5000, run: fuzzDecoders },
};

export const FULL_INPUTS = 100_000;

export interface CampaignOptions {
  seed: number;
  /** Inputs per target; undefined: each target's quick size. */
  inputs?: number;
  targets?: string[];
  /** Each target's time budget. */
  seconds?: number;
  failureFile: string;
  log: (line: string) => void;
}

export async function runCampaign(opts: CampaignOptions): Promise<TargetReport[]> {
  const names = opts.targets ?? Object.keys(TARGETS);
  const reports: TargetReport[] = [];
  for (const name of names) {
    const t = TARGETS[name];
    if (!t) throw new Error(`unknown fuzz target "${name}"; known: ${Object.keys(TARGETS).join(', ')}`);
    const inputs = opts.inputs ?? t.quick;
    opts.log(`fuzz ${name}: ${inputs} inputs, seed ${opts.seed} (${t.about})…`);
    setTimeBudget(opts.seconds);
    const r = await t.run({ inputs, seed: opts.seed, failureFile: opts.failureFile, log: opts.log });
    opts.log(`fuzz ${name}: ${r.inputs} inputs in ${r.seconds.toFixed(1)} s, ${r.crashes} crashes, ${r.hangs} hangs, ${r.inputs - r.accepted - r.crashes - r.hangs} refusals, ${r.accepted} accepted`);
    reports.push(r);
  }
  return reports;
}

/** Figures per target, "<target> <figure>", so that the report's one table holds them all. */
export function toBenchResult(reports: TargetReport[], setup: BenchResult['setup'], failureFile: string): BenchResult {
  const figures: Record<string, number> = {};
  const target: Record<string, number> = {};
  for (const r of reports) {
    const refusals = Object.values(r.refusals).reduce((a, b) => a + b, 0);
    Object.assign(figures, {
      [`${r.target} inputs`]: r.inputs,
      [`${r.target} crashes`]: r.crashes,
      [`${r.target} hangs`]: r.hangs,
      [`${r.target} refusals`]: refusals,
      [`${r.target} accepted`]: r.accepted,
      [`${r.target} inputs/s`]: Math.round(r.inputs / Math.max(r.seconds, 1e-3)),
    });
    for (const [why, n] of Object.entries(r.refusals).sort((a, b) => b[1] - a[1])) figures[`${r.target} refused: ${why}`] = n;
    for (const [k, v] of Object.entries(r.extra)) figures[`${r.target} ${k}`] = v;
    Object.assign(target, { [`${r.target} inputs`]: FULL_INPUTS, [`${r.target} crashes`]: 0, [`${r.target} hangs`]: 0 });
  }
  const failures = reports.flatMap((r) => r.failures);
  return {
    name: 'fuzz',
    setup,
    figures,
    peer: { name: 'issue 18 target', figures: target },
    ratios: Object.fromEntries(reports.map((r) => [`${r.target} inputs`, Math.round((r.inputs / FULL_INPUTS) * 1000) / 1000])),
    notes: [
      'no external peer: the reference is the issue\'s target (100,000 inputs per target at full size, no crash, no hang)',
      `failing inputs (seed, target, index, input) are appended to ${failureFile}`,
      ...failures.slice(0, 10).map((f) => `${f.kind} in ${f.target} (seed ${f.seed}, input ${f.index}): ${f.detail.split('\n')[0]}`),
    ],
  };
}

export async function run(opts: { full: boolean; log: (line: string) => void }): Promise<BenchResult> {
  const seed = Number(process.env.FUZZ_SEED ?? 18);
  const inputs = process.env.FUZZ_INPUTS ? Number(process.env.FUZZ_INPUTS) : opts.full ? FULL_INPUTS : undefined;
  const targets = process.env.FUZZ_TARGETS?.split(',').filter(Boolean);
  const seconds = process.env.FUZZ_SECONDS ? Number(process.env.FUZZ_SECONDS) : undefined;
  const failureFile = join(mkdtempSync(join(tmpdir(), 'sentinela-fuzz-')), 'failures.jsonl');
  opts.log(`fuzz: seed ${seed}; failing inputs go to ${failureFile}`);
  const reports = await runCampaign({ seed, inputs, targets, seconds, failureFile, log: opts.log });
  return toBenchResult(reports, { seed, size: opts.full ? 'full' : 'quick', targets: reports.map((r) => r.target).join(','), ...(seconds ? { 'seconds per target': seconds } : {}) }, failureFile);
}
