/**
 * `sentinela-hub sites revoke` with the embedded broker: the running hub closes the site's live
 * session at its next sweep and refuses every later login; what the site sent stays stored.
 */
import t from 'tap';
import { join } from 'node:path';
import { AgentHandle, hubWithNewSite } from '@sentinela/tools/harness/fleet.js';
import { hubMessages } from '@sentinela/tools/harness/stores.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';

t.test('a revoked site is disconnected by the running hub and cannot log in again; its data stays', async (t) => {
  const dir = tempDir('revoke');
  t.teardown(dir.remove);
  const { hub, siteId, token } = await hubWithNewSite(t, join(dir.path, 'hub'), 'rv');
  const agent = new AgentHandle({ dir: join(dir.path, 'agent'), siteId, mqttUrl: hub.mqttUrl, overrides: { sampling: { intervalSeconds: 1 } } });
  await agent.enroll(hub.httpUrl, token);
  await agent.start();
  t.teardown(() => agent.proc.stop());
  const data = join(hub.opts.dir, 'data');
  await waitFor('statuses stored', () => hubMessages(data, siteId).length >= 3, 30_000);

  const r = await hub.cli(['sites', 'revoke', '--id', siteId]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, `Site ${siteId}: MQTT credentials revoked`);
  // The sweep runs every 30 s by default; the hub must close the live session by itself.
  await hub.proc.waitForLog('revoked session closed', (l) => String(l.msg).includes(`closed the MQTT connection of site ${siteId}: its credentials were revoked`), 45_000);
  await hub.proc.waitForLog('the agent is refused on reconnect', (l) => l.reason === 'auth-not-enrolled' && String(l.msg).includes(siteId), 30_000);
  const kept = hubMessages(data, siteId).length;
  t.ok(kept >= 3, `the site's ${kept} stored messages stay`);

  const unknown = await hub.cli(['sites', 'revoke', '--id', 'no-such-site']);
  t.not(unknown.code, 0, 'revoking an unknown site fails');
  t.match(unknown.stderr, /there is no site no-such-site/);
});
