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

t.test('NUT lines: quoted values with spaces and escapes', async (t) => {
  t.same(splitNutLine('VAR fake ups.status "OB DISCHRG"'), ['VAR', 'fake', 'ups.status', 'OB DISCHRG']);
  t.same(splitNutLine('UPS fake "say \\"hi\\" \\\\ ok"'), ['UPS', 'fake', 'say "hi" \\ ok']);
});
