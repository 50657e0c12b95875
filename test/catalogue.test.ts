/**
 * Every code that travels and is worded where it is shown has its words in the one catalogue
 * (shared i18n/catalogue.ts): the console's keys (its templates and scripts), each alert rule, each
 * API error code, and the agent's event codes. Agent event codes not worded yet are listed below
 * and may only shrink: a new code must come with its words.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CATALOGUE } from '@sentinela/shared/i18n';
import { REPO_ROOT } from '@sentinela/tools/harness/paths.js';

const HUB = join(REPO_ROOT, 'packages/hub/src');
const AGENT = join(REPO_ROOT, 'packages/agent/src');
const has = (k: string) => Object.prototype.hasOwnProperty.call(CATALOGUE, k);
const read = (p: string) => readFileSync(p, 'utf8');
function sources(dir: string, ext: RegExp): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => ext.test(f) && !/\.test(-support)?\.ts$/.test(f))
    .map((f) => join(dir, f));
}

/** Agent event codes still shown as the agent's own sentence (a list that may only shrink). */
const NOT_YET_WORDED = new Set([
  'backup.key_created', 'backup.offsite_refused', 'page.verify',
  'power.final_backup', 'power.final_backup_failed', 'power.final_backup_skipped',
  'power.fsd_failed', 'power.fsd_latched', 'power.fsd_raised',
  'power.outlets', 'power.outlets_refused', 'power.outlets_unsupported', 'power.secondaries_timeout',
  'power.shutdown_failed',
]);

const common = read(join(HUB, 'console/static/common.js'));
const table = (name: string) => {
  const m = new RegExp(`const ${name} = \\{([\\s\\S]*?)\\n  \\};`).exec(common);
  if (!m) throw new Error(`no ${name} table in common.js`);
  return m[1]!;
};

t.test("every key the console's templates and scripts ask for", async (t) => {
  const used = new Set<string>();
  for (const f of [...sources(join(HUB, 'console/views'), /\.eta$/), ...sources(join(HUB, 'console/static'), /\.js$/)]) {
    for (const m of read(f).matchAll(/\bt\('([\w-]+)'(?!\s*\+)/g)) used.add(m[1]!); // not t('role_' + r): built keys
  }
  t.ok(used.size > 100, `${used.size} keys used`);
  for (const k of used) if (!has(k)) t.fail(`the console uses "${k}", which the catalogue lacks`);
});

t.test('every alert rule and every API error code is worded', async (t) => {
  const rules = new Set([...read(join(HUB, 'alerts/rules.ts')).matchAll(/rule: '([\w-]+)'/g)].map((m) => m[1]!));
  t.ok(rules.size >= 12, `${rules.size} rules`);
  const alerts = table('ALERTS');
  for (const r of rules) {
    const entry = new RegExp(`^\\s*'?${r}'?: .*$`, 'm').exec(alerts)?.[0];
    if (!entry) t.fail(`alert rule ${r} has no wording in the console (common.js ALERTS)`);
    else for (const m of entry.matchAll(/'(alert_\w+)'/g)) if (!has(m[1]!)) t.fail(`${r}: key ${m[1]} missing`);
  }
  const errors = new Set(sources(HUB, /\.ts$/).flatMap((f) => [...read(f).matchAll(/code: '(err_[\w-]+)'/g)].map((m) => m[1]!)));
  t.ok(errors.size >= 5, `${errors.size} API error codes`);
  for (const e of errors) if (!has(e)) t.fail(`API error code ${e} has no words`);
});

t.test("the agent's event codes: worded where the console shows them, or on the shrinking list", async (t) => {
  const codes = new Set(sources(AGENT, /\.ts$/).flatMap((f) => [...read(f).matchAll(/event\(\s*'([a-z_.]+)'/g)].map((m) => m[1]!)));
  t.ok(codes.size >= 30, `${codes.size} event codes`);
  const events = table('EVENTS');
  for (const c of codes) {
    const entry = new RegExp(`^\\s*'${c.replace(/\./g, '\\.')}': .*$`, 'm').exec(events)?.[0];
    if (NOT_YET_WORDED.has(c)) {
      if (entry) t.fail(`${c} is worded now: take it off NOT_YET_WORDED`);
      continue;
    }
    if (!entry) t.fail(`agent event ${c} has no wording in the console (common.js EVENTS) and is not on the list`);
    else for (const m of entry.matchAll(/'(event_\w+)'/g)) if (!has(m[1]!)) t.fail(`${c}: key ${m[1]} missing`);
  }
  for (const c of NOT_YET_WORDED) if (!codes.has(c)) t.fail(`${c} is on the list but the agent no longer sends it`);
});
