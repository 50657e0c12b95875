import t from 'tap';
import { DEFAULT_SCHEDULE, nextRun } from './schedule.js';

// Local time, as the agent reads its schedules: a Wednesday, 10:17:30.
const from = new Date(2026, 11, 2, 10, 17, 30);
const at = (d: number, h: number, m: number, s = 0) => new Date(2026, 11, d, h, m, s).getTime();

t.test('the schedules the config takes fire when cron would', async (t) => {
  t.equal(nextRun(DEFAULT_SCHEDULE, from)?.getTime(), at(2, 11, 0), 'the default: hourly, on the hour');
  t.equal(nextRun('*/10 * * * *', from)?.getTime(), at(2, 10, 20));
  t.equal(nextRun('30 2 * * *', from)?.getTime(), at(3, 2, 30), 'nightly at 02:30: tomorrow');
  t.equal(nextRun('0 20 * * 1-5', new Date(2026, 11, 4, 21, 0))?.getTime(), at(7, 20, 0), 'weekdays: Friday evening gives Monday');
  t.equal(nextRun('0 0 1 * 0', from)?.getTime(), at(6, 0, 0), 'day of month and day of week both given: either matches (Vixie cron)');
  t.equal(nextRun('*/15 * * * * *', from)?.getTime(), at(2, 10, 17, 45), 'six fields: seconds first');
  t.equal(nextRun('0 0 1 1 *', from)?.getTime(), new Date(2027, 0, 1, 0, 0).getTime(), "the harness's NEVER: once a year");
});

t.test('a wrong expression is refused when the module starts, not silently never run', async (t) => {
  for (const bad of ['61 * * * *', '* * *', '0 25 * * *', 'every hour']) t.throws(() => nextRun(bad, from), bad);
});
