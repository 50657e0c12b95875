import t from 'tap';
import { chooseThinning } from './thinning.js';

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
