/**
 * The foundation's promise, with real processes over real MQTT: what an agent records reaches the
 * hub exactly once and in order, across a hub outage and across SIGKILL of either side.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { AgentHandle, HubHandle } from '@sentinela/tools/harness/fleet.js';
import { agentOutbox, hubMessages, type StoredRow } from '@sentinela/tools/harness/stores.js';
import { tempDir, uniqueSiteId } from '@sentinela/tools/harness/tmp.js';
import { sleep, waitFor } from '@sentinela/tools/harness/wait.js';

interface SiteView {
  id: string;
  state: string;
  lastSeenAt: string | null;
  latestStatus: { seq: number; host: { hostname: string } } | null;
}

/** Every seq of a stream exactly once, and no status overtaken by a later one. */
function checkExactlyOnceInOrder(t: Test, rows: StoredRow[], upTo: number): void {
  const seqs = rows.map((r) => r.seq);
  t.equal(new Set(seqs).size, seqs.length, 'no seq stored twice');
  const missing: number[] = [];
  for (let s = 1; s <= upTo; s++) if (!seqs.includes(s)) missing.push(s);
  t.same(missing, [], `every seq from 1 to ${upTo} stored`);
  const status = rows.filter((r) => r.type === 'status');
  const outOfOrder = status.filter((r, i) => i > 0 && r.received_at < status[i - 1]!.received_at);
  t.same(outOfOrder.map((r) => r.seq), [], 'status messages were received in seq order');
}

t.test('status reaches the hub; a hub outage is queued and delivered exactly once, in order', async (t) => {
  const dir = tempDir('saf');
  t.teardown(dir.remove);
  const hub = await new HubHandle({ dir: join(dir.path, 'hub') }).start();
  t.teardown(() => hub.proc.stop());
  const apiToken = await hub.addApiToken('test');
  const siteId = uniqueSiteId('hf-saf');
  const agent = new AgentHandle({ dir: join(dir.path, 'agent'), siteId, mqttUrl: hub.mqttUrl, overrides: { sampling: { intervalSeconds: 1 } } });
  await agent.enroll(hub.httpUrl, await hub.addSite(siteId));
  await agent.start();
  t.teardown(() => agent.proc.stop());

  const site = await waitFor('the site online with a status', async () => {
    const s = await hub.api<SiteView>(`/api/v1/sites/${siteId}`, apiToken);
    return s.state === 'online' && s.latestStatus ? s : null;
  });
  t.ok(site.latestStatus!.host.hostname, 'the latest status carries the host health');

  // The hub goes away; the agent keeps sampling into its outbox.
  await hub.proc.stop();
  const before = agentOutbox(join(agent.opts.dir, 'data')).maxSeq;
  await waitFor('ten samples queued while the hub is down', () => agentOutbox(join(agent.opts.dir, 'data')).pending.length >= 10, 30_000);
  t.ok(agent.proc.running, 'the agent keeps running without its hub');
  const queuedUpTo = agentOutbox(join(agent.opts.dir, 'data')).maxSeq;
  t.ok(queuedUpTo >= before + 10, `seqs ${before + 1}..${queuedUpTo} were queued`);

  await hub.start();
  await waitFor('the backlog drained', () => agentOutbox(join(agent.opts.dir, 'data')).pending.length === 0, 60_000);
  checkExactlyOnceInOrder(t, hubMessages(join(hub.opts.dir, 'data'), siteId), queuedUpTo);
});

t.test('SIGKILL: the agent loses nothing it committed, the hub nothing it acked', async (t) => {
  const dir = tempDir('kill');
  t.teardown(dir.remove);
  const hub = await new HubHandle({ dir: join(dir.path, 'hub') }).start();
  t.teardown(() => hub.proc.stop());
  const siteId = uniqueSiteId('hf-kill');
  const agentData = join(dir.path, 'agent', 'data');
  // A slow drain keeps messages in flight, so that the kills land mid-send.
  const agent = new AgentHandle({
    dir: join(dir.path, 'agent'),
    siteId,
    mqttUrl: hub.mqttUrl,
    overrides: { sampling: { intervalSeconds: 1 }, outbox: { drainPerSecond: 0.5, inflight: 3 } },
  });
  await agent.enroll(hub.httpUrl, await hub.addSite(siteId));
  await agent.start();
  t.teardown(() => agent.proc.stop());
  await waitFor('a backlog of 6 messages', () => agentOutbox(agentData).pending.length >= 6, 30_000);
  await waitFor('some messages acked', () => hubMessages(join(hub.opts.dir, 'data'), siteId).length >= 3, 30_000);

  // Agent killed mid-send: what it committed is still in its outbox, or already at the hub.
  await agent.proc.kill();
  const afterAgentKill = agentOutbox(agentData);
  const atHub = new Set(hubMessages(join(hub.opts.dir, 'data'), siteId).map((r) => r.seq));
  const lost = [];
  for (let s = 1; s <= afterAgentKill.maxSeq; s++) if (!atHub.has(s) && !afterAgentKill.pending.includes(s)) lost.push(s);
  t.same(lost, [], `after the agent's SIGKILL every seq up to ${afterAgentKill.maxSeq} is at the hub or still queued`);

  // Hub killed mid-send: every seq the agent saw acked (gone from its outbox) is in the hub's database.
  await agent.start();
  await sleep(3000);
  await hub.proc.kill();
  await agent.proc.stop();
  const afterHubKill = agentOutbox(agentData);
  const stored = new Set(hubMessages(join(hub.opts.dir, 'data'), siteId).map((r) => r.seq));
  const ackedButMissing = [];
  for (let s = 1; s <= afterHubKill.maxSeq; s++) if (!afterHubKill.pending.includes(s) && !stored.has(s)) ackedButMissing.push(s);
  t.same(ackedButMissing, [], `every seq the hub acked (of 1..${afterHubKill.maxSeq}) survived its SIGKILL`);
  t.ok(afterHubKill.pending.length > 0, `the kill left ${afterHubKill.pending.length} messages unacked, so it really hit mid-send`);

  // Both back, the agent now draining at full speed: everything arrives, once.
  await hub.start();
  const fast = new AgentHandle({ ...agent.opts, overrides: { sampling: { intervalSeconds: 1 }, outbox: { drainPerSecond: 100 } } });
  await fast.start();
  t.teardown(() => fast.proc.stop());
  await waitFor('the backlog drained', () => agentOutbox(agentData).pending.length === 0, 60_000);
  checkExactlyOnceInOrder(t, hubMessages(join(hub.opts.dir, 'data'), siteId), afterHubKill.maxSeq);
});
