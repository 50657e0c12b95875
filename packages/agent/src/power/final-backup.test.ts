import t from 'tap';
import { decideFinalBackup, type FinalBackup } from './final-backup.js';
import { splitNutLine } from './nut-client.js';

const impl = (est: number | null): FinalBackup => ({ estimateSeconds: () => est, run: async () => undefined });
const o = { enabled: true, margin: 1.5, reserveSeconds: 120 };

t.test('the final backup is taken only when estimate × margin fits in runtime − reserve', async (t) => {
  t.match(decideFinalBackup(impl(100), 400, o), { take: true, budgetSec: 280 });
  t.match(decideFinalBackup(impl(200), 400, o), { take: false, why: /need 300 s .* only 280 s/ });
  t.match(decideFinalBackup(impl(null), 4000, o), { take: false, why: /no past backup/ });
  t.match(decideFinalBackup(impl(10), null, o), { take: false, why: /runtime/ });
  t.match(decideFinalBackup(null, 4000, o), { take: false });
  t.match(decideFinalBackup(impl(10), 4000, { ...o, enabled: false }), { take: false, why: /disabled/ });
});

t.test('issue 18 item 9: a skip never reads "0 s … 0 s"', async (t) => {
  const low = decideFinalBackup(impl(0.2), 100, o);
  t.match(low, { take: false, why: 'the runtime left (100 s) is within the 120 s kept in reserve for the halt' });
  const short = decideFinalBackup(impl(0.2), 120.2, o);
  t.match(short, { take: false, why: /need 0\.3 s \(estimate 0\.2 s × 1\.5\) but only 0\.2 s/ });
  for (const d of [low, short]) t.notMatch((d as { why: string }).why, /\b0 s\b/);
});

t.test('NUT lines: quoted values with spaces and escapes', async (t) => {
  t.same(splitNutLine('VAR fake ups.status "OB DISCHRG"'), ['VAR', 'fake', 'ups.status', 'OB DISCHRG']);
  t.same(splitNutLine('UPS fake "say \\"hi\\" \\\\ ok"'), ['UPS', 'fake', 'say "hi" \\ ok']);
});
