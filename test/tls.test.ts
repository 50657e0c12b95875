/** The production setup: MQTT over TLS, the agent trusting the hub's CA from its config. */
import t from 'tap';
import { join } from 'node:path';
import { AgentHandle, HubHandle } from '@sentinela/tools/harness/fleet.js';
import { hubMessages } from '@sentinela/tools/harness/stores.js';
import { makeTestCerts } from '@sentinela/tools/harness/tls.js';
import { tempDir, uniqueSiteId } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';

t.test('an agent delivers over mqtts:// to a hub with TLS only', async (t) => {
  const dir = tempDir('tls');
  t.teardown(dir.remove);
  const certs = makeTestCerts(dir.path);
  const hub = await new HubHandle({
    dir: join(dir.path, 'hub'),
    overrides: { mqtt: { allowPlaintext: false, tls: { certFile: certs.certFile, keyFile: certs.keyFile } } },
  }).start();
  t.teardown(() => hub.proc.stop());
  const siteId = uniqueSiteId('hf-tls');
  const agent = new AgentHandle({
    dir: join(dir.path, 'agent'),
    siteId,
    mqttUrl: `mqtts://localhost:${hub.mqttPort}`,
    overrides: { hub: { caFile: certs.caFile } },
  });
  await agent.enroll(hub.httpUrl, await hub.addSite(siteId));
  await agent.start();
  t.teardown(() => agent.proc.stop());
  await waitFor('a status stored', () => hubMessages(join(hub.opts.dir, 'data'), siteId).some((r) => r.type === 'status'));
  t.pass('status delivered over TLS');
});
