/**
 * Refusals against a real hub over real MQTT (issue 18 item 3 and the noisy-site limit): a flood of
 * junk writes a bounded log and every refusal is still counted; a client id of 60,000 characters
 * is written clipped, once; a site over the limit is cut off for a cool-down, with an alert, while
 * another site's messages keep being acked, and comes back when the cool-down is over.
 */
import t from 'tap';
import net from 'node:net';
import { downTopic, encodeUp, upTopic } from '@sentinela/shared';
import { collect, connect, connectSite, enrolSite, sleep, startTestHub, status, varint } from '../harness.test-support.js';
import { createApiToken } from '../store/tokens.js';

const mqtt = (noisySites: Record<string, number>) => ({ mqtt: { listen: { host: '127.0.0.1', port: 0 }, allowPlaintext: true, noisySites } });

async function refusedCount(metrics: { registry: { getSingleMetricAsString(n: string): Promise<string> } }, reason: string): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString('sentinela_hub_messages_refused_total');
  return Number(text.match(new RegExp(`reason="${reason}"} (\\d+)`))?.[1] ?? 0);
}

t.test('10,000 junk messages: a bounded log, every one counted in the metrics', async (t) => {
  const { hub, db, logs } = await startTestHub(t, mqtt({ maxRefusals: 1_000_000 }));
  const pw = enrolSite(db, 'hf-0001');
  const c = await connectSite(t, hub.mqttPort, 'hf-0001', pw);
  const before = logs.lines.length;
  const sent: Array<Promise<unknown>> = [];
  for (let i = 0; i < 10_000; i++) sent.push(c.publishAsync(upTopic('hf-0001', 'status'), Buffer.from(`{junk ${i}`), { qos: 1 }));
  await Promise.all(sent);
  t.equal(await refusedCount(hub.metrics, 'not-json'), 10_000, 'every refusal in the metric');
  const during = logs.lines.length - before;
  t.ok(during < 100, `${during} log lines for 10,000 refused messages (was 10,019)`);
  t.ok(c.connected, 'under the (raised) noisy limit the site stays connected');
  await hub.close();
  t.match(logs.find((l) => /held back/.test(l.msg))?.msg, /^9990 more log lines about site hf-0001 held back/, 'the held-back lines are told');
});

t.test('a CONNECT with a 60,000-character client id is logged clipped, once', async (t) => {
  const { hub, logs } = await startTestHub(t);
  const id = 'x'.repeat(60_000);
  await t.rejects(connect(t, hub.mqttPort, { clientId: id, username: 'hf-0001', password: 'nope' }));
  await logs.waitFor(/MQTT login for site hf-0001/);
  await sleep(100);
  const about = logs.lines.filter((l) => JSON.stringify(l).includes('xxxxxxxxxx'));
  t.equal(about.length, 1, 'one line (was two: the refusal and the broker error)');
  t.ok(JSON.stringify(about[0]).length < 1500, 'bounded');
  t.match(about[0]?.msg, /client id "x{200}… \(60000 characters\)" must equal the site id/);
});

t.test('a noisy site is cut off for a cool-down, with an alert; the others keep being acked; it comes back after', async (t) => {
  const { hub, db, logs } = await startTestHub(t, mqtt({ maxRefusals: 50, windowSeconds: 60, cooldownSeconds: 2, maxCooldownSeconds: 60 }));
  const pwBad = enrolSite(db, 'hf-0001');
  const pwGood = enrolSite(db, 'hf-0002');
  const token = createApiToken(db, 'test');
  const good = await connectSite(t, hub.mqttPort, 'hf-0002', pwGood);
  const goodAcks = await collect(good, downTopic('hf-0002', 'ack'));
  const bad = await connectSite(t, hub.mqttPort, 'hf-0001', pwBad);
  let isClosed = false;
  const closed = new Promise<void>((r) => bad.once('close', () => r((isClosed = true) && undefined)));
  // The noisy site floods while the good one keeps sending statuses.
  let seq = 0;
  for (let i = 0; i < 200; i++) {
    if (!isClosed) bad.publish(upTopic('hf-0001', 'event'), Buffer.from('not json'), { qos: 1 }, () => undefined);
    if (i % 20 === 0) await good.publishAsync(upTopic('hf-0002', 'status'), encodeUp(status('hf-0002', ++seq)), { qos: 1 });
  }
  await closed;
  bad.end(true);
  const cut = await logs.waitFor(/^site hf-0001 sent 51 refused messages within 60 s/);
  t.match(cut.msg, /disconnected, and its reconnects refused for 2 s/);
  await good.publishAsync(upTopic('hf-0002', 'status'), encodeUp(status('hf-0002', ++seq)), { qos: 1 });
  const acked = new Set<number>();
  while (acked.size < seq) for (const [a, b] of (await goodAcks.next()).acked as Array<[number, number]>) for (let s = a; s <= b; s++) acked.add(s);
  t.equal(acked.size, seq, `the other site's ${seq} statuses were all acked meanwhile`);
  t.ok(good.connected, 'and it stayed connected');

  await t.rejects(connectSite(t, hub.mqttPort, 'hf-0001', pwBad), /Server unavailable/, 'its reconnect is refused during the cool-down');
  const alerts = await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/sites/hf-0001/alerts`, { headers: { authorization: `Bearer ${token}` } });
  const noisy = ((await alerts.json()) as { alerts: Array<{ rule: string; message: string }> }).alerts.find((a) => a.rule === 'noisy');
  t.match(noisy?.message, /^disconnected by the hub until .*: 51 refused messages in a short time \(last: not-json\); cool-down 1 in a row$/, 'an alert for the site says why');
  t.match(await hub.metrics.registry.getSingleMetricAsString('sentinela_hub_site_cooldowns_total'), /sentinela_hub_site_cooldowns_total 1/);

  await sleep(2100);
  const back = await connectSite(t, hub.mqttPort, 'hf-0001', pwBad);
  const backAcks = await collect(back, downTopic('hf-0001', 'ack'));
  await back.publishAsync(upTopic('hf-0001', 'status'), encodeUp(status('hf-0001', 1)), { qos: 1 });
  t.same((await backAcks.next()).acked, [[1, 1]], 'after the cool-down it connects and is served again');
});

t.test('failed logins count against no site: anyone may not put a site in a cool-down', async (t) => {
  const { hub, db } = await startTestHub(t, mqtt({ maxRefusals: 3, windowSeconds: 60, cooldownSeconds: 60, maxCooldownSeconds: 60 }));
  const pw = enrolSite(db, 'hf-0001');
  for (let i = 0; i < 10; i++) await t.rejects(connectSite(t, hub.mqttPort, 'hf-0001', 'wrong'));
  // A raw malformed packet before any login is refused too, and counts against nobody.
  const sock = net.connect(hub.mqttPort, '127.0.0.1');
  sock.on('error', () => undefined);
  await new Promise((r) => sock.once('connect', r));
  sock.write(Buffer.from([0x10, ...varint(3), 0, 0, 0]));
  await new Promise((r) => sock.once('close', r));
  t.ok((await connectSite(t, hub.mqttPort, 'hf-0001', pw)).connected, 'the site itself still logs in');
});
