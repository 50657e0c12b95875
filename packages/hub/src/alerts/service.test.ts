/** The alert service on the change feed, with a real database: what a console page would be told. */
import t from 'tap';
import { join } from 'node:path';
import { openDb } from '../database.js';
import { ChangeFeed } from '../core/change-feed.js';
import { createSite } from '../store/sites.js';
import { LogCapture, tempDir, testConfig } from '../harness.test-support.js';
import { startAlerts, type Evaluated } from './service.js';
import { openAlerts } from './store.js';

t.test('a site that changed is evaluated and the listeners told once; an acknowledgement is told too', async (t) => {
  const dir = join(tempDir(t), 'data');
  const db = openDb(dir);
  t.teardown(() => db.close());
  const config = testConfig(dir, { alerts: { evaluateSeconds: 3600 } });
  const feed = new ChangeFeed(db);
  const alerts = startAlerts(db, config, new LogCapture().logger, feed);
  t.teardown(() => alerts.close());
  const heard: Evaluated[] = [];
  alerts.onEvaluated((e) => heard.push(e));
  await new Promise((r) => setImmediate(r)); // the first full pass, over no site yet
  t.match(heard, [{ all: true, alertsChanged: false }], 'the first pass after a start covers every site');

  createSite(db, { id: 'hf-0001', name: 'Centro de Saúde 1' });
  const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000).toISOString();
  db.prepare('UPDATE sites SET last_seen_at = ?, connected = 1 WHERE id = ?').run(twoDaysAgo, 'hf-0001');
  feed.tick();
  t.same([...heard[1]!.sites], ['hf-0001']);
  t.match(heard[1], { alertsChanged: true, all: false }, 'one notice for the evaluation and its new alert');
  t.match(openAlerts(db, 'hf-0001'), [{ rule: 'silent', severity: 'critical' }]);

  feed.tick();
  t.equal(heard.length, 2, 'nothing changed: nobody is told');

  alerts.changed(['hf-0001']);
  t.match(heard[2], { alertsChanged: true, all: false }, 'an acknowledgement reaches the console without an evaluation');
});
