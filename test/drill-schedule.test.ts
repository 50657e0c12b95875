/**
 * Issue 16, items 1 and 2: the scheduled drill and the overdue alert, with a real hub, a running
 * agent and a real MariaDB. The hub's drill-overdue limit is set to 86 s so that it is reached in
 * the test, and alerts clear as soon as their condition is gone (clearHoldMinutes 0): the site, enrolled and backing up but never drilled, gets the drill-overdue alert. Then
 * the agent runs with scheduled drills on (an off-peak window around now, checked every second); the
 * drill starts by itself, restores into the configured scratch server (drills.scratchMariadb: the
 * machine's own MariaDB), first dropping a copy a killed drill left there, drops its own copy
 * after, and its passing report clears the alert.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AgentHandle, HubHandle, NEVER } from '@sentinela/tools/harness/fleet.js';
import { tempDir, uniqueSiteId } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';
import { query } from '@sentinela/agent';

type Generator = typeof import('../bench/backup/generate.js');
const gen = (await import(new URL('../../bench/dist/backup/generate.js', import.meta.url).href)) as Generator;

interface Alert {
  siteId: string | null;
  rule: string;
  message: string;
}

const tag = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
const hhmm = (d: Date) => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
const drillDatabases = async () =>
  (await query('mariadb', { host: '127.0.0.1', database: 'mysql' }, "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'sentinela\\_drill\\_%'", null)).map((r) => r[0]!);

t.test('a site never drilled gets drill-overdue; the scheduled drill fires by itself, into the configured scratch server, and clears it', async (t) => {
  const dir = tempDir('drill-schedule');
  t.teardown(dir.remove);
  const src = { dialect: 'mariadb' as const, conn: { host: '127.0.0.1', database: `sn_drillsch_${tag}` } };
  t.teardown(() => gen.dropDatabase(src));
  await gen.createClinicalDatabase(src, { observations: 1000, seed: 4 });
  const hub = await new HubHandle({ dir: join(dir.path, 'hub'), overrides: { alerts: { evaluateSeconds: 5, drillOverdueDays: 0.001, clearHoldMinutes: 0 } } }).start();
  t.teardown(() => hub.proc.stop());
  const siteId = uniqueSiteId('hf-drillsch');
  const token = await hub.addSite(siteId);
  const api = await hub.addApiToken('drill-schedule');
  const agentOpts = (drills: Record<string, unknown>) => ({
    dir: join(dir.path, 'agent'),
    siteId,
    mqttUrl: hub.mqttUrl,
    overrides: { backup: { sources: [{ name: 'emr', kind: 'mariadb', host: '127.0.0.1', database: src.conn.database, schedule: NEVER }] }, drills },
  });
  const quiet = new AgentHandle(agentOpts({ enabled: false }));
  await quiet.enroll(hub.httpUrl, token);
  const b = await quiet.cli(['backup']);
  t.equal(b.code, 0, b.stderr);
  await quiet.start();
  const alert = async () => (await hub.api<{ alerts: Alert[] }>('/api/v1/alerts', api)).alerts.find((a) => a.siteId === siteId && a.rule === 'drill-overdue');
  const raised = await waitFor('the drill-overdue alert', alert, 120_000, 500);
  t.match(raised.message, /no passing restore drill/, `raised: ${raised.message}`);
  await quiet.proc.stop();

  // A copy a drill killed with SIGKILL left in the configured scratch server.
  const leftover = 'sentinela_drill_999999_1';
  await query('mariadb', { host: '127.0.0.1', database: 'mysql' }, `CREATE DATABASE IF NOT EXISTS ${leftover}`, null);
  t.teardown(() => query('mariadb', { host: '127.0.0.1', database: 'mysql' }, `DROP DATABASE IF EXISTS ${leftover}`, null));
  const now = new Date();
  const scheduled = new AgentHandle(
    agentOpts({
      enabled: true,
      everyDays: 7,
      checkSeconds: 1,
      window: { start: hhmm(new Date(now.getTime() - 3600_000)), end: hhmm(new Date(now.getTime() + 3600_000)) },
      scratchMariadb: { host: '127.0.0.1', user: 'root' },
    }),
  );
  await scheduled.start();
  t.teardown(() => scheduled.proc.stop());
  await scheduled.proc.waitForLog('the scheduled drill to start by itself', (l) => l.msg === 'scheduled restore drill starting', 30_000);
  const done = await scheduled.proc.waitForLog('the scheduled drill to finish', (l) => typeof l.msg === 'string' && /^restore drill (passed|FAILED)/.test(l.msg), 120_000);
  t.match(done.msg, /^restore drill passed: 1 copies restored and checked/, `the scheduled drill passed: ${done.msg}`);
  t.same(await drillDatabases(), [], 'the leftover copy in the scratch server was dropped, and the drill dropped its own');
  let last: Alert | undefined;
  await waitFor('the drill-overdue alert to clear', async () => (last = await alert()) === undefined, 60_000, 250).catch((err: Error) => {
    const hubSays = hub.proc.lines.filter((l) => /"level":"(warn|error)"/.test(l)).slice(-5).join('\n');
    throw new Error(`${err.message}; the alert says: ${last?.message}; the hub's last warnings:\n${hubSays}`);
  });
  t.pass('the passing drill cleared drill-overdue');
});
