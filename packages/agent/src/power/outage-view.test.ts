import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outageView } from './outage-view.js';
import { PowerStore } from './store.js';

const S = 1000;

t.test('issue 18 item 9: the outage length after a reboot leaves out the time the server was off', async (t) => {
  const o = { start: 0, end: 1000 * S, lowestCharge: 12, shutdown: true, haltedAt: 100 * S, resumedAt: 900 * S };
  t.match(outageView(o), { durationSec: 200, serverOffSec: 800, shutdown: true });
  t.match(outageView({ ...o, haltedAt: null, resumedAt: null }), { durationSec: 1000 }, 'no halt: the whole span');
  t.notOk('serverOffSec' in outageView({ ...o, resumedAt: null })!, 'halted but not back yet: no off time');
  t.equal(outageView({ ...o, end: null })!.durationSec, null);
});

t.test('power.db: the halt and resume times survive a reopen; an older file gains the columns', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'power-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'power.db');
  const old = new Database(file);
  old.exec('CREATE TABLE outages (id INTEGER PRIMARY KEY AUTOINCREMENT, start_ms INTEGER NOT NULL UNIQUE, end_ms INTEGER, lowest_charge REAL, shutdown INTEGER NOT NULL DEFAULT 0)');
  old.prepare('INSERT INTO outages (start_ms, end_ms, lowest_charge, shutdown) VALUES (?, ?, ?, ?)').run(5, 10, 50, 0);
  old.close();
  const s = new PowerStore(file);
  t.same(s.recent(), [{ start: 5, end: 10, lowestCharge: 50, shutdown: false, haltedAt: null, resumedAt: null }], 'the old row reads');
  s.save({ start: 20, end: null, lowestCharge: 9, shutdown: true, haltedAt: 30, resumedAt: null });
  s.close();
  const again = new PowerStore(file);
  t.match(again.open(), { start: 20, haltedAt: 30, resumedAt: null });
  again.close();
});
