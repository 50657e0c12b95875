import t from 'tap';
import { HubMetrics } from '../metrics.js';
import { LogCapture } from '../harness.test-support.js';
import { Backoff } from '@sentinela/shared';
import { clip, RateLimitedLog } from '@sentinela/shared';
import { Refusals } from './refusals.js';

t.test('clip: a client-chosen string is cut to a bound, saying how long it was', async (t) => {
  t.equal(clip('hf-0001'), 'hf-0001');
  const long = clip('x'.repeat(60_000));
  t.equal(long, `${'x'.repeat(200)}… (60000 characters)`);
});

t.test('rate-limited log: the first lines of a window per source, then one summary', async (t) => {
  const logs = new LogCapture();
  let now = 0;
  const log = new RateLimitedLog(logs.logger, { perWindow: 10, windowMs: 60_000, now: () => now });
  t.teardown(() => log.close());
  for (let i = 0; i < 10_000; i++) log.warn('site hf-0001', { i, topic: 'y'.repeat(5000) }, `refused ${i} ${'z'.repeat(5000)}`);
  log.warn('site hf-0002', {}, 'another source is not held back');
  t.equal(logs.lines.length, 11, '10 lines for the flooding source, 1 for the other');
  t.ok(logs.lines.every((l) => JSON.stringify(l).length < 1600), 'every line bounded, whatever the client sent');
  now = 60_000;
  log.warn('site hf-0001', {}, 'a new window');
  t.match(logs.lines[11], { msg: /^9990 more log lines about site hf-0001 held back in the last 60 s/, suppressed: 9990 });
  t.equal(logs.lines[12]?.msg, 'a new window');
  for (let i = 0; i < 20; i++) log.warn('site hf-0001', {}, 'again');
  log.close();
  t.match(logs.lines.at(-1), { msg: /^11 more log lines about site hf-0001/ }, 'what is held back is told at close');
  // Many sources cannot grow the tracking without bound: past the cap they share one key.
  const many = new LogCapture();
  const spread = new RateLimitedLog(many.logger, { perWindow: 1, windowMs: 60_000, now: () => 0 });
  for (let i = 0; i < 30_000; i++) spread.warn(`10.0.${i >> 8}.${i & 255}`, {}, 'refused');
  spread.close();
  t.equal(many.lines.filter((l) => l.msg === 'refused').length, 10_001, 'one line per tracked source, one for all the others');
});

t.test('backoff: doubling waits per key, capped, forgotten after a quiet while', async (t) => {
  const b = new Backoff({ free: 1, baseMs: 60_000, maxMs: 200_000, forgetMs: 3_600_000 });
  t.equal(b.failed('hf-0001', 0), 1);
  t.equal(b.waitMs('hf-0001', 0), 60_000);
  t.equal(b.waitMs('hf-0001', 60_000), 0, 'over after its time');
  b.failed('hf-0001', 60_000);
  t.equal(b.waitMs('hf-0001', 60_000), 120_000, 'doubled');
  b.failed('hf-0001', 180_000);
  t.equal(b.waitMs('hf-0001', 180_000), 200_000, 'capped');
  t.equal(b.failed('hf-0001', 180_000 + 3_600_001), 1, 'forgotten after an hour without one');
  t.equal(b.waitMs('hf-0002', 0), 0, 'other keys untouched');
});

t.test('refusals: counted by reason, logged within the limit, and a site over the limit cools down, doubling', async (t) => {
  const logs = new LogCapture();
  const metrics = new HubMetrics();
  let now = 1_000_000;
  const r = new Refusals(logs.logger, metrics, { maxRefusals: 100, windowSeconds: 60, cooldownSeconds: 60, maxCooldownSeconds: 3600 }, () => now);
  t.teardown(() => r.close());
  const cut: string[] = [];
  r.disconnect = (site) => cut.push(site);
  const refuse = (site: string | null, n: number) => {
    for (let i = 0; i < n; i++) r.refuse({ site, remote: '10.0.0.9', reason: 'not-json', text: 'refused: payload is not JSON' });
  };
  refuse(null, 1000);
  t.same(cut, [], 'refusals before a login count against no site, however many');
  refuse('hf-0001', 100);
  t.same(cut, [], 'up to the limit: nothing happens');
  refuse('hf-0002', 100);
  refuse('hf-0001', 1);
  t.same(cut, ['hf-0001'], 'one past the limit: disconnected');
  t.match(r.cooldownOf('hf-0001'), { seconds: 60, refusals: 101, reason: 'not-json', strike: 1 });
  t.equal(r.cooldownOf('hf-0002'), null, 'a site within the limit is untouched');
  t.match(logs.find((l) => /cool-down/.test(l.msg))?.msg, /^site hf-0001 sent 101 refused messages within 60 s \(last: not-json\): disconnected, and its reconnects refused for 60 s/);
  now += 60_000;
  t.equal(r.cooldownOf('hf-0001'), null, 'over after 60 s');
  refuse('hf-0001', 101);
  t.match(r.cooldownOf('hf-0001'), { seconds: 120, strike: 2 }, 'the next one lasts twice as long');
  const metric = (await metrics.registry.getSingleMetricAsString('sentinela_hub_messages_refused_total')).match(/reason="not-json"} (\d+)/)?.[1];
  t.equal(metric, '1302', 'every refusal counted in the metric');
  t.match(await metrics.registry.getSingleMetricAsString('sentinela_hub_site_cooldowns_total'), /sentinela_hub_site_cooldowns_total 2/);
  t.ok(logs.lines.length < 50, `the log stays short: 10 lines a source a window (${logs.lines.length} lines for 1,302 refusals)`);
});
