/**
 * Target (d): config files of both programs through their real loaders (parseConfigText with the
 * AgentConfig and HubConfig schemas: what `sentinela-agent … --config` and `sentinela-hub … --config`
 * load). Seeds: examples/agent.yaml and examples/hub.yaml. Mutations at the YAML level (a value,
 * a line, indentation, anchors and aliases, tags, directives, documents) and at the value level
 * (the file's data changed like any JSON document, written back as YAML). A refusal must be a
 * ConfigError whose every line names the file and a line or a key; anything else thrown is a
 * crash. On a sample of refused files, both CLIs must exit 2 with the same message and no stack.
 * Inputs run in worker threads (pool.ts), one per core; a loader that never returns is caught there.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { AgentConfig, ConfigError, HubConfig, parseConfigText } from '@sentinela/shared';
import { AGENT_BIN, HUB_BIN, REPO_ROOT } from '@sentinela/tools/harness/paths.js';
import { runNode } from '@sentinela/tools/harness/process.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { mutateBytes, mutateJson, oddString } from './mutate.js';
import { Rng } from './rng.js';
import { threadCpuMs, within, type Outcome, type TargetReport } from './tally.js';
import { eachLane, runInWorkers, type LaneContext } from './pool.js';
import type { TargetRun } from './fuzz.bench.js';

const ODD_SCALARS = ['~', '.inf', '-.nan', '0x1F', '0o777', '1e400', '-0', '!!binary aGVsbG8=', '*nowhere', '&a', '[', '{', '"unterminated', "'", '|', '>-', 'yes', 'NO', '2026-01-01', '!!js/function "x"', '<<: *a', '? complex', '- list', '%', '@reserved', '`tick', '100TB', '-1MiB', '9999999999999999999999', ''];

/** One change to the YAML text: a value, a line (gone, doubled, re-indented), or something YAML-specific. */
function mutateYamlText(rng: Rng, text: string): string {
  const lines = text.split('\n');
  const i = rng.below(lines.length);
  const line = lines[i]!;
  switch (rng.below(10)) {
    case 0:
    case 1: {
      const m = /^(\s*-?\s*[^:#]+:\s)(.*)$/.exec(line);
      lines[i] = m ? m[1] + (rng.chance(0.7) ? rng.pick(ODD_SCALARS) : JSON.stringify(oddString(rng))) : line + rng.pick(ODD_SCALARS);
      break;
    }
    case 2:
      lines.splice(i, 1);
      break;
    case 3:
      lines.splice(i, 0, line); // a key twice
      break;
    case 4:
      lines[i] = rng.pick([' ', '  ', '\t', '   ']) + line;
      break;
    case 5:
      lines[i] = line.replace(/^\s{1,2}/, '');
      break;
    case 6: {
      // An alias bomb: each level doubles the one before.
      const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
      for (let k = 1; k < rng.between(3, 12); k++) bomb.push(`a${k}: &a${k} [${Array.from({ length: 10 }, () => `*a${k - 1}`).join(', ')}]`);
      lines.splice(i, 0, ...bomb);
      break;
    }
    case 7:
      lines.splice(i, 0, rng.pick(['---', '...', '%YAML 1.1', '%TAG ! tag:x,2000:', '<<: {dataDir: /tmp}', '? [a, b]\n: c', '\ufeff', '\u0000', 'x'.repeat(100_000) + ': 1', '!!map', '&anchor', 'key: !!int "12"', '"\\ud800": 1']));
      break;
    case 8:
      return text.replace(/\n/g, '\r\n');
    default:
      return text.slice(0, rng.below(text.length + 1));
  }
  return lines.join('\n');
}

function mutateConfig(rng: Rng, text: string, data: unknown): string {
  const r = rng.below(10);
  if (r < 5) return mutateYamlText(rng, text);
  if (r < 8) {
    // The data changed at one value, written back as YAML (or as JSON, which YAML reads too).
    const json = mutateJson(rng, data);
    if (rng.chance(0.3)) return json;
    try {
      return stringify(JSON.parse(json));
    } catch {
      return json;
    }
  }
  return mutateBytes(rng, Buffer.from(text)).toString('latin1');
}

/**
 * CPU time one load may take. yaml itself spends about 2 s of CPU on a 1.7 MB file (a section
 * repeated 5000 times): slow, not stuck. Measured as the thread's CPU time, not wall time, which
 * on a loaded machine can be five times longer.
 */
const HANG_MS = 10_000;

/** A CLI run (a node process started on a loaded machine) that takes longer is a hang. */
const CLI_MS = 60_000;

const PROBLEM = /^(.+?):(\d+:\d+: |\s)/;

/** How the real loader answered one file. */
function loadOne(file: string, text: string, program: 'agent' | 'hub'): Outcome & { message?: string } {
  const t0 = threadCpuMs();
  const slow = (): Outcome | undefined => {
    const ms = threadCpuMs() - t0;
    return ms > HANG_MS ? { kind: 'hang', detail: `the loader took ${Math.round(ms)} ms of CPU` } : undefined;
  };
  try {
    parseConfigText(file, text, program === 'agent' ? AgentConfig : HubConfig);
    return slow() ?? { kind: 'accepted' };
  } catch (err) {
    const late = slow();
    if (late) return late;
    if (!(err instanceof ConfigError)) return { kind: 'crash', detail: `the ${program} config loader threw ${(err as Error).stack ?? String(err)}` };
    const unclear = err.problems.filter((p) => !p.startsWith(`${file}:`) || !PROBLEM.test(p));
    if (err.problems.length === 0 || unclear.length) return { kind: 'crash', detail: `a refusal that does not name the file and a line or key: ${JSON.stringify(unclear.slice(0, 3))}` };
    const why = err.problems.every((p) => p.includes('not valid YAML')) ? 'not valid YAML' : err.problems.some((p) => /^[^:]+:\d+:\d+: /.test(p)) ? 'invalid (with line)' : 'invalid (key only)';
    return { kind: 'refused', why: `${program}: ${why}`, message: err.message };
  }
}

interface Setup {
  /** Where the CLI sample's files are written. */
  dir: string;
  seeds: Array<{ program: 'agent' | 'hub'; text: string }>;
  /** Refused inputs whose index is a multiple of it also go through the CLI. */
  cliStride: number;
}

/** Through the CLI: exit 2, the loader's first line, no stack trace. */
async function throughCli(file: string, text: string, program: 'agent' | 'hub', message: string): Promise<Outcome | undefined> {
  writeFileSync(file, text);
  const [bin, args] = program === 'agent' ? [AGENT_BIN, ['snapshots', '--config', file]] : [HUB_BIN, ['sites', 'list', '--config', file]];
  const r = await runNode(bin, args);
  rmSync(file, { force: true });
  const firstLine = message.split('\n')[0]!;
  if (r.code !== 2 || !r.stderr.includes(firstLine) || /\n\s+at /.test(r.stderr)) return { kind: 'crash', detail: `the ${program} CLI exited ${r.code} (expected 2 with "${firstLine}"): ${r.stderr.slice(0, 800)}` };
  return undefined;
}

/** The worker side: the loaders are synchronous, so more lanes only keep going while one waits for a CLI. */
export async function configLanes(ctx: LaneContext<Setup>): Promise<void> {
  const seeds = ctx.setup.seeds.map((s) => ({ ...s, data: parse(s.text) as unknown }));
  await eachLane(ctx, (lane) => async (i) => {
    const rng = Rng.forInput(ctx.seed, 'config', i);
    const seed = rng.pick(seeds);
    const text = mutateConfig(rng, seed.text, seed.data);
    const file = join(ctx.setup.dir, `${seed.program}-${i}.yaml`);
    const loaded = loadOne(file, text, seed.program);
    let o: Outcome = loaded.kind === 'refused' ? { kind: 'refused', why: loaded.why } : loaded;
    let counts: Record<string, number> | undefined;
    if (loaded.kind === 'refused' && i % ctx.setup.cliStride === 0) {
      counts = { 'CLI runs (exit 2 checked)': 1 };
      o = (await within(throughCli(file, text, seed.program, loaded.message!), CLI_MS, () => ({ kind: 'hang', detail: `the ${seed.program} CLI did not exit within ${CLI_MS} ms` }))) ?? o;
    }
    ctx.record(lane, i, o, () => text, counts);
    // A turn of the event loop after every input: a CLI's exit is read when it comes, not after
    // a stretch of loads (its time limit's timer would then fire first and call it a hang), and
    // the heartbeat the pool watches goes on.
    await new Promise((r) => setImmediate(r));
  });
}

export async function fuzzConfig(opts: TargetRun): Promise<TargetReport> {
  const dir = tempDir('sentinela-fuzz-config-');
  const seeds = (['agent', 'hub'] as const).map((program) => ({ program, text: readFileSync(join(REPO_ROOT, 'examples', `${program}.yaml`), 'utf8') }));
  for (const s of seeds) {
    const o = loadOne(`examples/${s.program}.yaml`, s.text, s.program);
    if (o.kind !== 'accepted') throw new Error(`examples/${s.program}.yaml is not accepted: ${JSON.stringify(o)}`);
  }
  // About one refused input in 2000 through the CLIs (refusals are about half the inputs), at least a few.
  const cliStride = Math.max(7, Math.floor(opts.inputs / Math.max(8, Math.round(opts.inputs / 1000))));
  try {
    return await runInWorkers({
      ...opts,
      target: 'config',
      module: import.meta.url,
      entry: 'configLanes',
      lanes: 4,
      // Past a lane's own limits (the CLI's), so that only a loader that never returns is caught there.
      stuckMs: CLI_MS + 20_000,
      setup: { dir: dir.path, seeds, cliStride } satisfies Setup,
    });
  } finally {
    dir.remove();
  }
}
