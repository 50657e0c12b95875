/**
 * Target (d): config files of both programs through their real loaders (parseConfigText with the
 * AgentConfig and HubConfig schemas: what `sentinela-agent … --config` and `sentinela-hub … --config`
 * load). Seeds: examples/agent.yaml and examples/hub.yaml. Mutations at the YAML level (a value,
 * a line, indentation, anchors and aliases, tags, directives, documents) and at the value level
 * (the file's data changed like any JSON document, written back as YAML). A refusal must be a
 * ConfigError whose every line names the file and a line or a key; anything else thrown is a
 * crash. On a sample of refused files, both CLIs must exit 2 with the same message and no stack.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { AgentConfig, ConfigError, HubConfig, parseConfigText } from '@sentinela/shared';
import { AGENT_BIN, HUB_BIN, REPO_ROOT } from '@sentinela/tools/harness/paths.js';
import { runNode } from '@sentinela/tools/harness/process.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { mutateBytes, mutateJson, oddString } from './mutate.js';
import { Rng } from './rng.js';
import { campaign, Tally, type Outcome, type TargetReport } from './tally.js';
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

/** yaml itself takes seconds over a 150 kB flow-style file (a field repeated 5000 times): slow, not stuck. */
const HANG_MS = 10_000;

const PROBLEM = /^(.+?):(\d+:\d+: |\s)/;

/** How the real loader answered one file. */
function loadOne(file: string, text: string, program: 'agent' | 'hub'): Outcome & { message?: string } {
  const t0 = performance.now();
  try {
    parseConfigText(file, text, program === 'agent' ? AgentConfig : HubConfig);
    return { kind: 'accepted' };
  } catch (err) {
    const ms = performance.now() - t0;
    if (ms > HANG_MS) return { kind: 'hang', detail: `the loader took ${Math.round(ms)} ms` };
    if (!(err instanceof ConfigError)) return { kind: 'crash', detail: `the ${program} config loader threw ${(err as Error).stack ?? String(err)}` };
    const unclear = err.problems.filter((p) => !p.startsWith(`${file}:`) || !PROBLEM.test(p));
    if (err.problems.length === 0 || unclear.length) return { kind: 'crash', detail: `a refusal that does not name the file and a line or key: ${JSON.stringify(unclear.slice(0, 3))}` };
    const why = err.problems.every((p) => p.includes('not valid YAML')) ? 'not valid YAML' : err.problems.some((p) => /^[^:]+:\d+:\d+: /.test(p)) ? 'invalid (with line)' : 'invalid (key only)';
    return { kind: 'refused', why: `${program}: ${why}`, message: err.message };
  }
}

export async function fuzzConfig(opts: TargetRun): Promise<TargetReport> {
  const tally = new Tally('config', opts.seed, opts.failureFile);
  const dir = tempDir('sentinela-fuzz-config-');
  const seeds = (['agent', 'hub'] as const).map((program) => {
    const text = readFileSync(join(REPO_ROOT, 'examples', `${program}.yaml`), 'utf8');
    return { program, text, data: parse(text) as unknown };
  });
  for (const s of seeds) {
    const o = loadOne(`examples/${s.program}.yaml`, s.text, s.program);
    if (o.kind !== 'accepted') throw new Error(`examples/${s.program}.yaml is not accepted: ${JSON.stringify(o)}`);
  }
  // Through the CLIs as well, for a sample: exit 2, the loader's message, no stack trace.
  const cliSample = Math.max(4, Math.round(opts.inputs / 2000));
  const cliChecks: Array<Promise<void>> = [];
  let cliRun = 0;
  try {
    await campaign(opts.inputs, 1, async (i) => {
      const rng = Rng.forInput(opts.seed, 'config', i);
      const seed = rng.pick(seeds);
      const text = mutateConfig(rng, seed.text, seed.data);
      const file = join(dir.path, `${seed.program}-${i}.yaml`);
      const o = loadOne(file, text, seed.program);
      if (o.kind === 'refused' && cliRun < cliSample && i % 7 === 0) {
        cliRun++;
        writeFileSync(file, text);
        const args = seed.program === 'agent' ? [AGENT_BIN, ['snapshots', '--config', file]] as const : [HUB_BIN, ['sites', 'list', '--config', file]] as const;
        cliChecks.push(
          runNode(args[0], [...args[1]]).then((r) => {
            const firstLine = o.message!.split('\n')[0]!;
            if (r.code !== 2 || !r.stderr.includes(firstLine) || /\n\s+at /.test(r.stderr))
              tally.add(i, { kind: 'crash', detail: `the ${seed.program} CLI exited ${r.code} (expected 2 with "${firstLine}"): ${r.stderr.slice(0, 800)}` }, text);
          }),
        );
      }
      tally.add(i, o, text);
      if (i % 200 === 199) await new Promise((r) => setImmediate(r));
    });
    await Promise.all(cliChecks);
  } finally {
    dir.remove();
  }
  tally.report.extra = { 'CLI runs (exit 2 checked)': cliRun };
  return tally.finish();
}
