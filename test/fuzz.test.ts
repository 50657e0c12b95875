/**
 * The fuzzing campaign of issue 18 at its quick size (bench/fuzz): MQTT at a real hub, the payload
 * decoders, a real repository's files, both programs' configs, HTTP at a real hub. No input may
 * crash or hang a program, and each target must have refused some inputs (a campaign that only
 * sends valid input proves nothing). A failure prints the seed and input index that reproduce it.
 */
import t from 'tap';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { join } from 'node:path';

// The bench compiles to bench/dist, the tests to test/dist: the campaign is loaded from where it is built.
type Fuzz = typeof import('../bench/fuzz/fuzz.bench.js');
const { runCampaign, TARGETS } = (await import(new URL('../../bench/dist/fuzz/fuzz.bench.js', import.meta.url).href)) as Fuzz;

const dir = tempDir('fuzz');
t.teardown(dir.remove);

t.test('quick fuzzing campaign: no crash, no hang, a refusal for bad input at every target (issue 18)', async (t) => {
  const failureFile = join(dir.path, 'failures.jsonl');
  const reports = await runCampaign({ seed: 18, failureFile, log: (line) => t.comment(line) });
  t.same(reports.map((r) => r.target), Object.keys(TARGETS), 'every target ran');
  for (const r of reports) {
    const refusals = Object.values(r.refusals).reduce((a, b) => a + b, 0);
    t.equal(r.inputs, TARGETS[r.target]!.quick, `${r.target}: every input tried`);
    t.equal(r.crashes, 0, `${r.target}: no crash${r.crashes ? `: ${r.failures.map((f) => `input ${f.index}: ${f.detail.split('\n')[0]}`).join('; ')} (inputs in ${failureFile})` : ''}`);
    t.equal(r.hangs, 0, `${r.target}: no hang${r.hangs ? `: ${r.failures.map((f) => `input ${f.index}: ${f.detail.split('\n')[0]}`).join('; ')}` : ''}`);
    t.ok(refusals > r.inputs / 10, `${r.target}: bad input refused (${refusals} of ${r.inputs})`);
  }
  const mqtt = reports.find((r) => r.target === 'mqtt')!;
  t.ok(mqtt.extra['other site acks']! > 0, 'the well-behaved site was served throughout');
  t.equal(mqtt.extra['other site failed publishes'], 0, 'none of its messages went unacknowledged');
});
