import t from 'tap';
import { chooseDrops, chooseThinning } from './thinning.js';

const rows = (n: number, bytes = 10) => Array.from({ length: n }, (_, i) => ({ seq: i + 1, bytes }));

t.test('nothing to free, nothing dropped', async (t) => {
  t.same(chooseThinning(rows(10), 0), []);
});

t.test('first round drops every other row of the oldest half, keeping the oldest', async (t) => {
  // 10 rows, oldest half = seqs 1..5; every other = 2, 4
  t.same(chooseThinning(rows(10), 20), [2, 4]);
  // stops as soon as enough is freed
  t.same(chooseThinning(rows(10), 10), [2]);
});

t.test('repeats rounds, always within the older part', async (t) => {
  const dropped = chooseThinning(rows(100), 500);
  t.equal(dropped.length, 50);
  t.ok(dropped.every((s) => s <= 75), 'never touches the newest quarter');
  t.notOk(dropped.includes(1), 'the very oldest sample survives while others remain');
});

t.test('drops everything if it must', async (t) => {
  t.same(chooseThinning(rows(3), 1000), [1, 2, 3]);
  t.same(chooseThinning([], 1000), []);
});

t.test('drop order: samples above their floor, info, warning, the other samples, critical', async (t) => {
  const row = (seq: number, bytes = 10) => ({ seq, bytes, ts: `2026-01-01T00:00:${String(seq).padStart(2, '0')}.000Z` });
  const src = {
    statuses: [1, 2, 3, 4, 5, 6, 7, 8].map((s) => row(s)),
    events: (sev: 'info' | 'warning' | 'critical') => ({ info: [row(20), row(21)], warning: [row(30), row(31)], critical: [row(40), row(41)] })[sev],
  };
  const order = (bytes: number, floor = 40) => chooseDrops(src, bytes, floor).map((d) => `${d.class}:${d.seq}`);
  t.same(order(20), ['status:2', 'status:4'], 'samples first, thinned, while above the floor');
  t.same(order(50), ['status:2', 'status:3', 'status:4', 'status:5', 'info:20'], 'down to the floor (40 of 80 bytes), then info');
  t.same(
    order(90),
    ['status:2', 'status:3', 'status:4', 'status:5', 'info:20', 'info:21', 'warning:30', 'warning:31', 'status:6'],
    'then warnings, then the other samples (still thinned: the oldest and newest stay longest)',
  );
  t.same(order(1000).slice(-6), ['status:1', 'status:6', 'status:7', 'status:8', 'critical:40', 'critical:41'], 'critical events last, oldest first');
  t.equal(order(1000).length, 14, 'everything can go when it must');
  t.same(order(0), [], 'nothing to free, nothing dropped');
  const dropped = chooseDrops(src, 1000, 0);
  t.same(dropped[0], { seq: 1, bytes: 10, ts: '2026-01-01T00:00:01.000Z', class: 'status' }, 'each drop says what it was and when it was recorded');
});
