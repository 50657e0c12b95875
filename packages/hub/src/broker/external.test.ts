import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { downTopic, encodeUp, upTopic } from '@sentinela/shared';
import { createSite } from '../store/sites.js';
import { collect, connect, startTestHub, status, tempDir, sleep } from '../harness.test-support.js';

// Debian's mosquitto package (.ci/run installs it); a missing broker fails the test instead of skipping it.
const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p)) ?? 'mosquitto';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitForPort(port: number, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}`);
    await sleep(50);
  }
}

t.test('external broker mode: ingest through Mosquitto', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const broker = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  t.teardown(() => broker.kill('SIGTERM'));
  await waitForPort(port);

  const { hub, db, logs } = await startTestHub(t, { externalBroker: { url: `mqtt://127.0.0.1:${port}`, clientId: 'hub-test-ingest' } });
  t.equal(hub.broker, 'external');
  t.equal(hub.mqttPort, port, 'reports the external broker port');
  await logs.waitFor(/subscribed to sentinela\/v1\/site\/\+\/up\/# on the external broker/);
  createSite(db, { id: 'hf-0001' });

  // The agent side: a plain client of Mosquitto (which does no validation).
  const agent = await connect(t, port, { clientId: 'hf-0001' });
  const acks = await collect(agent, downTopic('hf-0001', 'ack'));
  await agent.publishAsync(upTopic('hf-0001', 'status'), encodeUp(status('hf-0001', 1)), { qos: 1 });
  t.same((await acks.next()).acked, [[1, 1]], 'acked through the external broker after commit');
  t.equal(db.prepare('SELECT COUNT(*) FROM messages').pluck().get(), 1);

  // Validation is the hub's job here.
  await agent.publishAsync(upTopic('hf-0001', 'status'), Buffer.from(JSON.stringify({ ...status('hf-0001', 2), seq: 'two' })), { qos: 1 });
  await logs.waitFor(/refused a message from site hf-0001 on sentinela\/v1\/site\/hf-0001\/up\/status: seq: expected number/);
  await agent.publishAsync(upTopic('hf-0404', 'status'), encodeUp(status('hf-0404', 1)), { qos: 1 });
  await logs.waitFor(/refused a message from site hf-0404 .*unknown site/);
  t.equal(db.prepare('SELECT COUNT(*) FROM messages').pluck().get(), 1, 'nothing else stored');
});
