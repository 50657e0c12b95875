import t from 'tap';
import { join } from 'node:path';
import { AgentConfig } from '@sentinela/shared';
import { NotEnrolledError, SiteMismatchError, startAgent } from './agent.js';
import { writeCredentials } from './enroll/credentials.js';
import { BROKER_URL, closedPort, memoryLogger, purgeSession, tempDir, TestHub, uniqueSite, waitFor } from './fixtures.test-support.js';

t.test('not enrolled: a clear error', async (t) => {
  const config = AgentConfig.parse({ dataDir: tempDir(t), hub: { mqttUrl: BROKER_URL } });
  await t.rejects(startAgent(config, memoryLogger().logger), NotEnrolledError);
  await t.rejects(startAgent(config, memoryLogger().logger), /not enrolled yet: .*run sentinela-agent enroll/);
});

t.test('site.id must match the enrolled site', async (t) => {
  const dataDir = tempDir(t);
  writeCredentials(join(dataDir, 'credentials.json'), {
    siteId: 'hc-a',
    username: 'hc-a',
    password: 'p',
    hubHttpUrl: 'http://x',
    enrolledAt: new Date().toISOString(),
  });
  const config = AgentConfig.parse({ dataDir, site: { id: 'hc-b' }, hub: { mqttUrl: BROKER_URL } });
  await t.rejects(startAgent(config, memoryLogger().logger), SiteMismatchError);
});

t.test('the agent samples, records events first in the outbox, and delivers them', async (t) => {
  const site = uniqueSite('agent');
  const dataDir = tempDir(t);
  writeCredentials(join(dataDir, 'credentials.json'), {
    siteId: site,
    username: site,
    password: 'p',
    hubHttpUrl: 'http://x',
    enrolledAt: new Date().toISOString(),
  });
  const port = await closedPort();
  const config = AgentConfig.parse({
    dataDir,
    hub: { mqttUrl: BROKER_URL, reconnectSeconds: 1 },
    sampling: { intervalSeconds: 3600, services: [{ name: 'openmrs-db', tcp: `127.0.0.1:${port}`, timeoutMs: 500 }] },
  });
  const hub = await TestHub.start(site);
  t.teardown(async () => {
    await hub.close();
    await purgeSession(site);
  });
  const { logger, lines } = memoryLogger();
  const agent = await startAgent(config, logger);
  const ready = lines.find((l) => l.msg === 'agent ready');
  t.ok(ready, 'agent ready logged');
  t.equal(ready!.site, site);
  await waitFor(() => hub.of('status').length >= 1 && agent.outbox.stats().pending === 0, 15_000, 'status delivered and acked');
  const codes = hub.of('event').map((e) => e.code);
  t.ok(codes.includes('agent.started'), 'agent.started');
  t.ok(codes.includes('service.down'), 'service.down for the closed port');
  const down = hub.of('event').find((e) => e.code === 'service.down')!;
  t.equal(down.message, `Service openmrs-db at 127.0.0.1:${port} is not answering: ECONNREFUSED`);
  const status = hub.of('status')[0]!;
  t.equal(status.services[0]!.up, false);
  t.ok(status.outbox, 'status carries outbox stats');
  t.equal(hub.of('event').find((e) => e.code === 'agent.started')!.data?.previousShutdown, 'first-start');
  await agent.sampleNow();
  await waitFor(() => hub.of('status').length >= 2, 10_000, 'second sample');
  t.equal(hub.of('event').filter((e) => e.code === 'service.down').length, 1, 'no repeat event while it stays down');
  await agent.close();
  await waitFor(() => hub.of('death').length >= 1, 5_000, 'clean death');
  t.equal(hub.of('death')[0]!.clean, true);

  // Restart: the previous run stopped cleanly, and seqs continue.
  const lastSeq = Math.max(...hub.queuedSeqs());
  const again = await startAgent(config, memoryLogger().logger);
  await waitFor(() => hub.of('event').filter((e) => e.code === 'agent.started').length >= 2, 10_000, 'second start');
  const second = hub.of('event').filter((e) => e.code === 'agent.started')[1]!;
  t.equal(second.data?.previousShutdown, 'clean');
  t.ok(second.seq > lastSeq, 'seq keeps growing across restarts');
  await again.close();
});
