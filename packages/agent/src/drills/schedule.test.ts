import t from 'tap';
import { AgentDrillsConfig } from '@sentinela/shared';
import { inWindow, whyNotNow } from './schedule.js';

const cfg = AgentDrillsConfig.parse({});
const at = (hhmm: string, day = 10) => new Date(2026, 11, day, Number(hhmm.slice(0, 2)), Number(hhmm.slice(3)));

t.test('the off-peak window, also across midnight', async (t) => {
  t.ok(inWindow(cfg.window, at('01:00')), '01:00 is in 01:00-05:00');
  t.notOk(inWindow(cfg.window, at('05:00')), 'the end is not');
  t.notOk(inWindow(cfg.window, at('12:00')), 'noon is not');
  const night = { start: '22:00', end: '04:00' };
  t.ok(inWindow(night, at('23:30')) && inWindow(night, at('03:59')), '22:00-04:00 holds 23:30 and 03:59');
  t.notOk(inWindow(night, at('04:00')) || inWindow(night, at('21:59')), 'but not 04:00 nor 21:59');
});

t.test('a drill is due once a week, in the window, on mains, with no backup running', async (t) => {
  const base = { now: at('02:00'), lastAt: null, onBattery: false, backupRunning: false };
  t.equal(whyNotNow(cfg, base), null, 'never drilled, in the window: due');
  t.match(whyNotNow(cfg, { ...base, lastAt: at('02:00', 5).toISOString() }), /last drill/, 'five days after the last: not due');
  t.equal(whyNotNow(cfg, { ...base, lastAt: at('01:30', 3).toISOString() }), null, 'seven days after: due');
  t.match(whyNotNow(cfg, { ...base, now: at('14:00') }), /off-peak window/, 'not outside the window');
  t.match(whyNotNow(cfg, { ...base, onBattery: true }), /battery/, 'never on battery');
  t.match(whyNotNow(cfg, { ...base, backupRunning: true }), /backup is running/, 'never during a backup');
  t.match(whyNotNow({ ...cfg, enabled: false }, base), /off/, 'never when turned off');
});
