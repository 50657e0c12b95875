/**
 * A hub made unreachable shows as a WAN outage with the right duration while the LAN probe stays up.
 * The "hub" and the LAN gateway are TCP listeners this test controls; the agent runs in-process.
 * DNS is probed against a real DNS server (dnsmasq) that the test stops and starts.
 */
import t from 'tap';
import { join } from 'node:path';
import { AgentConfig } from '@sentinela/shared';
import { dnsAttempt, startAgent, writeCredentials } from '@sentinela/agent';
import { Dnsmasq } from '@sentinela/tools/harness/dnsmasq.js';
import { capturedLogger } from '@sentinela/tools/harness/log.js';
import { close, listener, portOf } from '@sentinela/tools/harness/tcp.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';

t.test('hub unreachable: a WAN outage with its duration, LAN still up', async (t) => {
  const dir = tempDir('net');
  t.teardown(dir.remove);
  const gateway = await listener();
  let hub = await listener();
  const hubPort = portOf(hub);
  t.teardown(async () => {
    await close(gateway);
    await close(hub).catch(() => undefined);
  });
  const dataDir = join(dir.path, 'agent');
  writeCredentials(join(dataDir, 'credentials.json'), { siteId: 'hf-net', username: 'hf-net', password: 'p', hubHttpUrl: 'http://x', enrolledAt: new Date().toISOString() });
  const config = AgentConfig.parse({
    dataDir,
    hub: { mqttUrl: `mqtt://127.0.0.1:${hubPort}`, reconnectSeconds: 3600 },
    sampling: { intervalSeconds: 3600 },
    network: { intervalSeconds: 0.5, attempts: 2, timeoutMs: 300, downAfterRounds: 2, lan: { gateway: `127.0.0.1:${portOf(gateway)}` } },
  });
  const { logger, lines } = capturedLogger('net');
  const agent = await startAgent(config, logger);
  t.teardown(() => agent.close());
  const net_ = agent.modules.find((m) => m.name === 'network')!;
  const view = async () => (await net_.status!()).network!;
  await waitFor('WAN up', async () => (await view()).wan.up === true);

  const stoppedAt = Date.now();
  await close(hub);
  await waitFor('network.wan_down', () => lines.some((l) => l.code === 'network.wan_down'));
  const during = await view();
  t.equal(during.verdict, 'wan-down', 'told apart from a LAN fault');
  t.equal(during.lan?.up, true, 'the LAN probe stays up');
  t.equal(during.hub.up, false);
  // hold the outage for a few seconds, then bring the hub back
  await waitFor('4 s of outage', () => Date.now() - stoppedAt >= 4000);
  hub = await listener(hubPort);
  const restartedAt = Date.now();
  await waitFor('network.wan_up', () => lines.some((l) => l.code === 'network.wan_up'));
  const outage = lines.find((l) => l.code === 'network.wan_up')!.outage as { start: string; end: string; durationSec: number };
  const real = (restartedAt - stoppedAt) / 1000;
  t.ok(Math.abs(outage.durationSec - real) <= 1.5, `recorded ${outage.durationSec} s for a real outage of ${real.toFixed(1)} s (rounds every 0.5 s)`);
  const after = await view();
  t.equal(after.verdict, 'ok');
  t.equal(after.wan.lastOutage?.durationSec, outage.durationSec, 'the outage is on disk');
  t.ok(after.wan.uptimeTodayPct !== null && after.wan.uptimeTodayPct < 100, `uptime today ${after.wan.uptimeTodayPct}%`);
  t.ok(Array.isArray(after.interfaces) && after.interfaces.length > 0, 'interface counters from systeminformation');
});

t.test('DNS: answers with latency, a server down is told apart from the LAN and the hub, then recovers', async (t) => {
  const dns = new Dnsmasq({ 'hub.sentinela.test': '10.20.30.40', 'mirror.sentinela.test': '10.20.30.41' });
  await dns.start();
  t.teardown(() => dns.stop());
  const missing = await dnsAttempt('missing.sentinela.test', [dns.server], 500);
  t.same([missing.ok, missing.error], [false, 'ENOTFOUND'], 'a name the server does not know: ENOTFOUND');

  const dir = tempDir('net-dns');
  t.teardown(dir.remove);
  const gateway = await listener();
  const hub = await listener();
  t.teardown(async () => {
    await close(gateway);
    await close(hub);
  });
  const dataDir = join(dir.path, 'agent');
  writeCredentials(join(dataDir, 'credentials.json'), { siteId: 'hf-dns', username: 'hf-dns', password: 'p', hubHttpUrl: 'http://x', enrolledAt: new Date().toISOString() });
  const config = AgentConfig.parse({
    dataDir,
    hub: { mqttUrl: `mqtt://127.0.0.1:${portOf(hub)}`, reconnectSeconds: 3600 },
    sampling: { intervalSeconds: 3600 },
    network: {
      intervalSeconds: 0.5, attempts: 2, timeoutMs: 300, downAfterRounds: 2,
      lan: { gateway: `127.0.0.1:${portOf(gateway)}` },
      dns: { names: ['hub.sentinela.test', 'mirror.sentinela.test'], servers: [dns.server] },
    },
  });
  const agent = await startAgent(config, capturedLogger('net', 'warn').logger);
  t.teardown(() => agent.close());
  const net_ = agent.modules.find((m) => m.name === 'network')!;
  const view = async () => (await net_.status!()).network!;

  await waitFor('DNS answering', async () => (await view()).dns?.up === true);
  const up = (await view()).dns!;
  t.equal(up.target, 'hub.sentinela.test,mirror.sentinela.test', 'both names probed');
  t.equal(up.lossPct, 0);
  t.ok(typeof up.latencyMs === 'number' && up.latencyMs >= 0 && up.latencyMs < 300, `latency ${up.latencyMs} ms`);

  await dns.stop();
  await waitFor('DNS down', async () => (await view()).dns?.up === false);
  const down = await view();
  t.equal(down.dns!.lossPct, 100, 'every attempt lost');
  t.match(down.dns!.error, /^(ECONNREFUSED|ETIMEOUT|ETIMEDOUT)$/, `the resolver's own error: ${down.dns!.error}`);
  t.equal(down.lan?.up, true, 'the LAN gateway still answers');
  t.equal(down.hub.up, true, 'the hub (by address) still answers');

  await dns.start(); // same port
  await waitFor('DNS back', async () => (await view()).dns?.up === true);
  t.equal((await view()).dns!.lossPct, 0, 'answers again');
});
