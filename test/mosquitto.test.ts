/**
 * The same store-and-forward through Mosquitto (the machine's broker on 127.0.0.1:1883): the agent
 * connects to Mosquitto, and the hub's ingest is a client of Mosquitto that validates, stores and acks.
 */
import t from 'tap';
import { join } from 'node:path';
import { AgentHandle, HubHandle } from '@sentinela/tools/harness/fleet.js';
import { agentOutbox, hubMessages } from '@sentinela/tools/harness/stores.js';
import { tempDir, uniqueSiteId } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';

const MOSQUITTO = 'mqtt://127.0.0.1:1883';

t.test('agent → Mosquitto → hub ingest, acks back through Mosquitto, across an ingest restart', async (t) => {
  const dir = tempDir('mosq');
  t.teardown(dir.remove);
  const hub = await new HubHandle({
    dir: join(dir.path, 'hub'),
    overrides: { externalBroker: { url: MOSQUITTO, clientId: uniqueSiteId('hub-ingest') } },
  }).start();
  t.teardown(() => hub.proc.stop());
  const siteId = uniqueSiteId('hf-mosq');
  const agentData = join(dir.path, 'agent', 'data');
  const agent = new AgentHandle({ dir: join(dir.path, 'agent'), siteId, mqttUrl: MOSQUITTO, overrides: { sampling: { intervalSeconds: 1 } } });
  await agent.enroll(hub.httpUrl, await hub.addSite(siteId));
  await agent.start();
  t.teardown(() => agent.proc.stop());

  await waitFor('three statuses stored via Mosquitto', () => hubMessages(join(hub.opts.dir, 'data'), siteId).filter((r) => r.type === 'status').length >= 3, 30_000);
  await waitFor('acks reached the agent through Mosquitto', () => agentOutbox(agentData).pending.length <= 2, 30_000);

  // The ingest goes away; Mosquitto keeps its persistent session's messages, the agent its outbox.
  await hub.proc.stop();
  await waitFor('a backlog while the ingest is down', () => agentOutbox(agentData).pending.length >= 5, 30_000);
  await hub.start();
  await waitFor('the backlog drained', () => agentOutbox(agentData).pending.length === 0, 60_000);
  const rows = hubMessages(join(hub.opts.dir, 'data'), siteId);
  const seqs = rows.map((r) => r.seq);
  t.equal(new Set(seqs).size, seqs.length, 'no duplicates');
  const max = Math.max(...seqs);
  t.equal(seqs.length, max, `all of 1..${max} stored once`);
});
