/**
 * Bad input at the hub's door: wrong passwords, spoofed sites, malformed and oversized payloads.
 * Each is refused and logged with the reason, and a well-behaved site keeps being served throughout.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { encodeUp, upTopic, type EventMessage } from '@sentinela/shared';
import { AgentHandle, HubHandle } from '@sentinela/tools/harness/fleet.js';
import { agentOutbox, hubMessages } from '@sentinela/tools/harness/stores.js';
import { tempDir, uniqueSiteId } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';

const dir = tempDir('refusals');
t.teardown(dir.remove);

/** Connects a raw MQTT client as a site; resolves with the client, or rejects with the CONNACK error. */
function connect(url: string, siteId: string, password: string): Promise<mqtt.MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { clientId: siteId, username: siteId, password, reconnectPeriod: 0, connectTimeout: 5000 });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

function readPassword(agentDir: string): string {
  // The credentials file the agent's enrolment wrote (mode 0600).
  return (JSON.parse(readFileSync(join(agentDir, 'data', 'credentials.json'), 'utf8')) as { password: string }).password;
}

const event = (site: string, seq: number): EventMessage => ({
  v: 1, type: 'event', site, stream: 'attacker-stream', seq, ts: new Date().toISOString(),
  code: 'test.probe', severity: 'info', message: 'probe',
});

t.test('refusals are logged with their reason and never disturb other sites', async (t) => {
  const hub = await new HubHandle({ dir: join(dir.path, 'hub') }).start();
  t.teardown(() => hub.proc.stop());
  const good = uniqueSiteId('hf-good');
  const bad = uniqueSiteId('hf-bad');
  // The well-behaved site: a real agent, sampling every second the whole time.
  const agent = new AgentHandle({ dir: join(dir.path, good), siteId: good, mqttUrl: hub.mqttUrl, overrides: { sampling: { intervalSeconds: 1 } } });
  await agent.enroll(hub.httpUrl, await hub.addSite(good));
  await agent.start();
  t.teardown(() => agent.proc.stop());
  // The misbehaving site, enrolled like any other.
  const badAgent = new AgentHandle({ dir: join(dir.path, bad), siteId: bad, mqttUrl: hub.mqttUrl });
  await badAgent.enroll(hub.httpUrl, await hub.addSite(bad));
  const badPassword = readPassword(badAgent.opts.dir);
  const goodCount = () => hubMessages(join(hub.opts.dir, 'data'), good).length;

  await t.test('a wrong password is refused', async (t) => {
    await t.rejects(connect(hub.mqttUrl, bad, 'not-the-password'), /Bad username or password|Not authorized/);
    await hub.proc.waitForLog('the refusal logged', (l) => JSON.stringify(l).includes(bad) && /password|auth/i.test(String(l.msg)));
    await t.rejects(connect(hub.mqttUrl, 'hf-nobody', 'x'), /Bad username or password|Not authorized/);
  });

  const client = await connect(hub.mqttUrl, bad, badPassword);
  t.teardown(() => client.end(true));

  await t.test('site B publishing under site A is refused and logged', async (t) => {
    client.publish(upTopic(good, 'event'), encodeUp(event(good, 999_999)), { qos: 1 });
    await hub.proc.waitForLog('the spoof logged', (l) => JSON.stringify(l).includes(bad) && JSON.stringify(l).includes(good) && l.level !== 'info');
    t.notOk(hubMessages(join(hub.opts.dir, 'data'), good).some((r) => r.seq === 999_999), 'the spoofed message was not stored');
  });

  await t.test('a malformed payload is refused with the reason', async (t) => {
    const c = await connect(hub.mqttUrl, bad, badPassword);
    t.teardown(() => c.end(true));
    c.publish(upTopic(bad, 'event'), '{"v":1,"type":"event"', { qos: 1 });
    await hub.proc.waitForLog('not-JSON logged', (l) => JSON.stringify(l).includes(bad) && /not JSON/.test(JSON.stringify(l)));
    c.publish(upTopic(bad, 'event'), JSON.stringify({ ...event(bad, 1), severity: 'apocalyptic' }), { qos: 1 });
    await hub.proc.waitForLog('schema violation logged', (l) => JSON.stringify(l).includes(bad) && /severity/.test(JSON.stringify(l)));
    t.equal(hubMessages(join(hub.opts.dir, 'data'), bad).length, 0, 'nothing stored for the bad site');
  });

  await t.test('a 10 MB payload is refused before it is buffered, the connection closed', async (t) => {
    const c = await connect(hub.mqttUrl, bad, badPassword);
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish(upTopic(bad, 'event'), Buffer.alloc(10 * 1024 * 1024, 0x7b), { qos: 1 });
    await closed;
    c.end(true);
    const line = await hub.proc.waitForLog('the size refusal logged', (l) => /10485\d\d\d/.test(JSON.stringify(l)));
    t.match(JSON.stringify(line), /limit/);
  });

  const before = goodCount();
  await waitFor('the good site still delivering', () => goodCount() >= before + 2, 20_000);
  t.ok(hub.proc.running, 'the hub is still up');
  t.ok(agentOutbox(join(agent.opts.dir, 'data')).pending.length < 5, 'the good site has no backlog');
});
