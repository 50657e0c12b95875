/** The off-site catalogue in a real hub database: what the API and the console list per site. */
import t from 'tap';
import { join } from 'node:path';
import { openDb } from '../database.js';
import { tempDir } from '../harness.test-support.js';
import { getEscrow, listSnapshots, markDamaged, markVerified, recordSnapshot, removeSnapshots, saveEscrow, type CatalogueRow } from './catalogue.js';

const row = (id: string, base: string | null): CatalogueRow => ({
  siteId: 'hf-0001', id, base, objects: 3, bytes: 1000, receivedBytes: 400, receivedAt: '2026-05-04T10:00:00.000Z', verifiedAt: null,
});

t.test('snapshots recorded, verified, found damaged, forgotten; escrow kept per site', async (t) => {
  const db = openDb(join(tempDir(t), 'data'));
  t.teardown(() => db.close());
  const full = '20260504T020000Z-emr-aaaa';
  const delta = '20260505T020000Z-emr-bbbb';
  recordSnapshot(db, row(full, null));
  recordSnapshot(db, row(delta, full));
  recordSnapshot(db, { ...row(delta, full), bytes: 1, verifiedAt: '2026-05-05T03:00:00.000Z' });
  t.match(listSnapshots(db, 'hf-0001'), [{ id: full, base: null, damaged: null }, { id: delta, base: full, bytes: 1000, verifiedAt: '2026-05-05T03:00:00.000Z' }], 'a snapshot sent again keeps its figures, takes the new verify time');
  t.same(listSnapshots(db, 'hf-0002'), [], 'another site sees none of them');

  markDamaged(db, 'hf-0001', new Map([[full, 'object 1f…: missing']]));
  markVerified(db, 'hf-0001', [delta], '2026-05-06T03:00:00.000Z');
  t.match(listSnapshots(db, 'hf-0001'), [{ id: full, damaged: 'object 1f…: missing', verifiedAt: null }, { id: delta, damaged: null, verifiedAt: '2026-05-06T03:00:00.000Z' }]);
  markVerified(db, 'hf-0001', [full], '2026-05-07T03:00:00.000Z');
  t.equal(listSnapshots(db, 'hf-0001')[0]!.damaged, null, 'a verify that finds it whole again clears the damage');

  removeSnapshots(db, 'hf-0001', [delta]);
  t.same(listSnapshots(db, 'hf-0001').map((s) => s.id), [full]);

  t.equal(getEscrow(db, 'hf-0001'), null);
  saveEscrow(db, 'hf-0001', 'k1', 'sealed-1', '2026-05-04T10:00:00.000Z');
  saveEscrow(db, 'hf-0001', 'k2', 'sealed-2', '2026-05-08T10:00:00.000Z');
  t.same(getEscrow(db, 'hf-0001'), { keyId: 'k2', sealed: 'sealed-2', depositedAt: '2026-05-08T10:00:00.000Z' }, 'a new deposit replaces the old');
});
