/**
 * A full data disk (a real ENOSPC: the agent's data folder on a small tmpfs, filled up) while the
 * link to the hub keeps breaking: the agent reconnects without writing to its outbox and stays up;
 * when space returns, every message it created reaches the hub. Found by the fault campaign
 * (bench/faults, issue 18): the reconnect handler counted the attempt in the outbox, and
 * SQLITE_FULL there ended the process. The health sample, which fails at every interval while the
 * disk is full, is logged once per failure and 10 minutes, not at every sample.
 */
import t from 'tap';
import { join } from 'node:path';
import { AgentHandle, hubWithNewSite } from '@sentinela/tools/harness/fleet.js';
import { canMount, fillUp, mountTmpfs, unmountAll } from '@sentinela/tools/harness/mounts.js';
import { ThrottledProxy } from '@sentinela/tools/harness/proxy.js';
import { agentOutbox, hubMessages } from '@sentinela/tools/harness/stores.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { sleep, waitFor } from '@sentinela/tools/harness/wait.js';

t.test('a full data disk while the link breaks: the agent stays up and loses nothing', async (t) => {
  // CI runs as root; elsewhere this fails rather than silently skipping.
  if (!t.ok(canMount(), 'root with mount, for a real small filesystem')) return;
  const dir = tempDir('disk-full');
  t.teardown(dir.remove);
  t.teardown(unmountAll);
  const { hub, siteId, token } = await hubWithNewSite(t, join(dir.path, 'hub'), 'hf-full');
  const proxy = await new ThrottledProxy({ targetPort: hub.mqttPort }).start();
  t.teardown(() => proxy.close());
  const dataDir = join(dir.path, 'agent', 'data');
  mountTmpfs(dataDir, 16 * 1024 * 1024);
  const agent = new AgentHandle({
    dir: join(dir.path, 'agent'),
    siteId,
    mqttUrl: proxy.url,
    overrides: { dataDir, hub: { reconnectSeconds: 1 }, sampling: { intervalSeconds: 1 } },
  });
  await agent.enroll(hub.httpUrl, token);
  await agent.start();
  t.teardown(() => agent.proc.stop());
  await waitFor('the first messages at the hub', () => hubMessages(join(hub.opts.dir, 'data'), siteId).length >= 2, 30_000);

  const free = fillUp(dataDir);
  for (let i = 0; i < 4; i++) {
    proxy.cutAll();
    await sleep(1500);
  }
  t.ok(agent.proc.running, `the agent is still running after 4 reconnects on a full disk${agent.proc.running ? '' : `:\n${agent.proc.lines.slice(-15).join('\n')}`}`);
  if (!agent.proc.running) return;
  t.ok(agent.proc.findLog((l) => String(l.msg).startsWith('the outbox could not be written')), 'the failing write is logged');
  // A sample a second failed for 6 s: told once, not once a second (issue 18's leftover).
  const sampleLines = agent.proc.lines.filter((l) => l.includes('health sample failed'));
  t.ok(sampleLines.length >= 1 && sampleLines.length <= 2, `the failing health sample is logged once, not at every sample (${sampleLines.length} lines)`);
  const before = agentOutbox(dataDir).maxSeq;
  free();
  await waitFor('new samples once there is space again', () => agentOutbox(dataDir).maxSeq >= before + 3, 30_000);
  await waitFor('the outbox drained', () => agentOutbox(dataDir).pending.length === 0, 60_000);
  const { maxSeq } = agentOutbox(dataDir);
  const stored = new Set(hubMessages(join(hub.opts.dir, 'data'), siteId).map((r) => r.seq));
  const lost = [];
  for (let s = 1; s <= maxSeq; s++) if (!stored.has(s)) lost.push(s);
  t.same(lost, [], `every seq from 1 to ${maxSeq} reached the hub`);
});
