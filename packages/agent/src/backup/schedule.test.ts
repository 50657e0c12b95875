import t from 'tap';
import { DEFAULT_SCHEDULE, firesAt } from './schedule.js';

// Local time, as the agent reads its schedules: a Wednesday, 10:17:30.
const from = new Date(2026, 11, 2, 10, 17, 30);
const at = (d: number, h: number, m: number, s = 0) => new Date(2026, 11, d, h, m, s).getTime();

/** The first time after `start` at which `expr` fires, looked at every `stepSeconds` (the scheduler's own matcher). */
function firstFire(expr: string, start: Date, stepSeconds = 60): number | null {
  const first = Math.ceil((start.getTime() + 1) / (stepSeconds * 1000)) * stepSeconds * 1000;
  for (let ms = first, n = 0; n < 60 * 24 * 40; ms += stepSeconds * 1000, n++) if (firesAt(expr, new Date(ms))) return ms;
  return null;
}

t.test('the schedules the config takes fire when cron would', async (t) => {
  t.equal(firstFire(DEFAULT_SCHEDULE, from), at(2, 11, 0), 'the default: hourly, on the hour');
  t.equal(firstFire('*/10 * * * *', from), at(2, 10, 20));
  t.equal(firstFire('30 2 * * *', from), at(3, 2, 30), 'nightly at 02:30: tomorrow');
  t.equal(firstFire('0 20 * * 1-5', new Date(2026, 11, 4, 21, 0)), at(7, 20, 0), 'weekdays: Friday evening gives Monday');
  t.equal(firstFire('*/15 * * * * *', from, 1), at(2, 10, 17, 45), 'six fields: seconds first');
  t.equal(firstFire('0 0 1 1 *', from, 3600), new Date(2027, 0, 1, 0, 0).getTime(), "the harness's NEVER: once a year, on 1 January");
  // node-cron, unlike Vixie cron, wants both when a day of the month and a day of the week are given (documented in schedule.ts).
  t.equal(firstFire('0 0 1 * 5', from, 3600), new Date(2027, 0, 1, 0, 0).getTime(), 'day of month and day of week both given: both must match (Friday 1 January)');
});

t.test('a wrong expression is refused when the module starts, not silently never run', async (t) => {
  for (const bad of ['61 * * * *', '* * *', '0 25 * * *', 'every hour']) t.throws(() => firesAt(bad, from), bad);
});
