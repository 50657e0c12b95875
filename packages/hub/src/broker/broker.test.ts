import t from 'tap';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { downTopic, encodeUp, upTopic } from '@sentinela/shared';
import { birth, collect, connect, connectSite, death, enrolSite, event, sleep, startTestHub, status, STREAM, tempDir, varint } from '../harness.test-support.js';

// The throwaway CA of tools/harness (built in the same `tsc -b` run, before the tests run).
const { makeTestCerts } = (await import(new URL('../../../../tools/dist/harness/tls.js', import.meta.url).href)) as {
  makeTestCerts: (dir: string) => { caFile: string; certFile: string; keyFile: string };
};

t.test('authentication', async (t) => {
  const { hub, db, logs } = await startTestHub(t);
  const password = enrolSite(db, 'hf-0001');

  const ok = await connectSite(t, hub.mqttPort, 'hf-0001', password);
  t.ok(ok.connected, 'right password connects');

  await t.rejects(connectSite(t, hub.mqttPort, 'hf-0001', 'wrong'), /Bad username or password/i, 'wrong password refused');
  const wrong = await logs.waitFor(/refused: wrong password/);
  t.match(wrong.msg, /site hf-0001 from 127\.0\.0\.1/, 'logged with the site and address');

  await t.rejects(connectSite(t, hub.mqttPort, 'hf-9999', password), /Bad username or password/i, 'unknown site refused');
  await logs.waitFor(/hf-9999 from .* refused: unknown site/);

  await t.rejects(connect(t, hub.mqttPort, { clientId: 'other-id', username: 'hf-0001', password }), /Identifier rejected/i, 'client id mismatch refused');
  await logs.waitFor(/client id "other-id" must equal the site id/);

  await t.rejects(connect(t, hub.mqttPort, { clientId: 'hf-0001' }), /Bad username or password/i, 'anonymous refused');
  await logs.waitFor(/anonymous clients are not allowed/);
  t.ok(ok.connected, 'the legitimate client is still connected');
});

t.test('publish: ingest, ack after commit, idempotent', async (t) => {
  const { hub, db } = await startTestHub(t);
  const pw = enrolSite(db, 'hf-0001');
  const c = await connectSite(t, hub.mqttPort, 'hf-0001', pw);
  const acks = await collect(c, downTopic('hf-0001', 'ack'));
  await c.publishAsync(upTopic('hf-0001', 'birth'), encodeUp(birth('hf-0001', 7)), { qos: 1 });
  for (const seq of [1, 2, 3]) await c.publishAsync(upTopic('hf-0001', 'status'), encodeUp(status('hf-0001', seq)), { qos: 1 });
  const seen = new Set<number>();
  while (seen.size < 3) {
    const ack = await acks.next();
    t.equal(ack.type, 'ack');
    t.equal(ack.stream, STREAM);
    for (const [a, b] of ack.acked) for (let s = a; s <= b; s++) {
      // Ack only after commit: every acked seq is already a row.
      t.ok(db.prepare('SELECT 1 FROM messages WHERE site_id = ? AND stream = ? AND seq = ?').get('hf-0001', STREAM, s), `seq ${s} stored before its ack`);
      seen.add(s);
    }
  }
  // The same seq again: one row, acked again.
  await c.publishAsync(upTopic('hf-0001', 'status'), encodeUp(status('hf-0001', 2)), { qos: 1 });
  const again = await acks.next();
  t.same(again.acked, [[2, 2]], 'duplicate acked again');
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n, 3, 'one row per seq');
  const site = db.prepare('SELECT connected, bd_seq, agent_version, last_seen_at FROM sites WHERE id = ?').get('hf-0001') as Record<string, unknown>;
  t.equal(site.connected, 1);
  t.equal(site.bd_seq, 7);
  t.equal(site.agent_version, '0.1.0');
  t.ok(site.last_seen_at);
});

t.test('ACL: publishing and subscribing under another site', async (t) => {
  const { hub, db, logs } = await startTestHub(t);
  const pwA = enrolSite(db, 'hf-000a');
  const pwB = enrolSite(db, 'hf-000b');
  const b = await connectSite(t, hub.mqttPort, 'hf-000b', pwB);
  const a = await connectSite(t, hub.mqttPort, 'hf-000a', pwA);

  // Subscribing to B's down topic: SUBACK 128, connection kept.
  const err = await a.subscribeAsync(downTopic('hf-000b', 'ack'), { qos: 1 }).then(
    () => null,
    (e: { packet?: { granted?: number[] } }) => e,
  );
  t.same(err?.packet?.granted, [128], 'subscription refused with SUBACK 128');
  t.same((await a.subscribeAsync(downTopic('hf-000a', 'ack'), { qos: 1 }))[0]?.qos, 1, 'its own down topic is allowed');
  await logs.waitFor(/site hf-000a tried to subscribe to "sentinela\/v1\/site\/hf-000b\/down\/ack"/);
  t.ok(a.connected, 'a refused subscription does not disconnect');

  // Publishing under B: refused, logged, connection closed, nothing stored.
  const closed = new Promise<void>((r) => a.once('close', () => r()));
  a.publish(upTopic('hf-000b', 'status'), encodeUp(status('hf-000b', 1)), { qos: 1 });
  await closed;
  const line = await logs.waitFor(/site hf-000a tried to publish to site hf-000b's topic/);
  t.match(line.msg, /sentinela\/v1\/site\/hf-000b\/up\/status; refused; connection closed/);
  await sleep(50);
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n, 0, 'nothing stored');
  t.ok(b.connected, 'the other site is unaffected');
});

t.test('a PUBLISH to a filter (+ or #) is refused and closes its connection, on the fast lane and through aedes (issue 18 item 3)', async (t) => {
  const { hub, db, logs } = await startTestHub(t);
  const pw = enrolSite(db, 'hf-0001');
  const pw2 = enrolSite(db, 'hf-0002');
  const other = await connectSite(t, hub.mqttPort, 'hf-0002', pw2);
  const otherAcks = await collect(other, downTopic('hf-0002', 'ack'));
  const str = (s: string) => {
    const b = Buffer.from(s);
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  };
  const withLength = (first: number, body: Buffer) => Buffer.concat([Buffer.from([first, ...varint(body.length)]), body]);
  const connectPkt = withLength(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 30]), str('hf-0001'), str('hf-0001'), str(pw)]));
  const payload = encodeUp(status('hf-0001', 1));
  const own = 'sentinela/v1/site/hf-0001/up';
  let seq = 0;
  // QoS 1 takes the fast lane, QoS 0 goes through aedes.
  for (const qos of [1, 0]) {
    for (const topic of [`${own}/+`, `${own}/#`, `${own}/sync/+`, `${own}/status#`, `sentinela/v1/site/+/up/status`]) {
      const sock = net.connect(hub.mqttPort, '127.0.0.1');
      t.teardown(() => sock.destroy());
      await new Promise((r) => sock.once('connect', r));
      const received: Buffer[] = [];
      sock.on('data', (d) => received.push(d));
      sock.on('error', () => undefined);
      const closed = new Promise<void>((r) => sock.once('close', () => r()));
      sock.write(connectPkt);
      for (let i = 0; i < 200 && Buffer.concat(received).length < 4; i++) await sleep(5);
      const body = qos === 1 ? Buffer.concat([str(topic), Buffer.from([0, ++seq]), payload]) : Buffer.concat([str(topic), payload]);
      sock.write(withLength(qos === 1 ? 0x32 : 0x30, body));
      await closed;
      t.same([...Buffer.concat(received)], [0x20, 2, 0, 0], `QoS ${qos} to ${topic}: closed after the CONNACK, no PUBACK`);
    }
  }
  const line = await logs.waitFor(/published to the filter/);
  t.match(line.msg, /site hf-0001 published to the filter "sentinela\/v1\/site\/hf-0001\/up\/\+" \(a topic name may not hold \+ or #\); refused; connection closed/);
  t.equal(db.prepare("SELECT COUNT(*) FROM messages WHERE site_id = 'hf-0001'").pluck().get(), 0, 'nothing stored');
  await other.publishAsync(upTopic('hf-0002', 'status'), encodeUp(status('hf-0002', 1)), { qos: 1 });
  t.same((await otherAcks.next()).acked, [[1, 1]], 'another site is still served');
});

t.test('malformed and schema-invalid payloads refused, the site stays connected', async (t) => {
  const { hub, db, logs } = await startTestHub(t);
  const pw = enrolSite(db, 'hf-0001');
  const pw2 = enrolSite(db, 'hf-0002');
  const c = await connectSite(t, hub.mqttPort, 'hf-0001', pw);
  const acks = await collect(c, downTopic('hf-0001', 'ack'));

  await c.publishAsync(upTopic('hf-0001', 'status'), Buffer.from('{not json'), { qos: 1 });
  const notJson = await logs.waitFor(/refused a message from site hf-0001 on sentinela\/v1\/site\/hf-0001\/up\/status: payload is not JSON/);
  t.equal(notJson.reason, 'not-json');

  const bad = { ...status('hf-0001', 5), host: { hostname: 'x' } };
  await c.publishAsync(upTopic('hf-0001', 'status'), Buffer.from(JSON.stringify(bad)), { qos: 1 });
  const invalid = await logs.waitFor(/refused a message from site hf-0001 .*host\.uptimeSec/);
  t.equal(invalid.reason, 'invalid');
  const rejected = await acks.next();
  t.same(rejected.acked, [], 'nothing acked');
  t.equal(rejected.rejected[0].seq, 5, 'the invalid seq is acked as rejected');
  t.match(rejected.rejected[0].reason, /invalid: host\.uptimeSec/);

  t.ok(c.connected, 'the site stays connected');
  const other = await connectSite(t, hub.mqttPort, 'hf-0002', pw2);
  const acks2 = await collect(other, downTopic('hf-0002', 'ack'));
  await other.publishAsync(upTopic('hf-0002', 'event'), encodeUp(event('hf-0002', 1)), { qos: 1 });
  t.same((await acks2.next()).acked, [[1, 1]], 'the hub still serves another site');
  await c.publishAsync(upTopic('hf-0001', 'status'), encodeUp(status('hf-0001', 6)), { qos: 1 });
  t.same((await acks.next()).acked, [[6, 6]], 'and the same site');
});

t.test('a payload nesting deeper than the protocol allows is refused with its depth, and its seq rejected (issue 18 item 2)', async (t) => {
  const { hub, db, logs } = await startTestHub(t);
  const pw = enrolSite(db, 'hf-0001');
  const c = await connectSite(t, hub.mqttPort, 'hf-0001', pw);
  const acks = await collect(c, downTopic('hf-0001', 'ack'));
  const nest = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  // The payload: schema-valid, dated 2099, 60,000 levels in a field the schema does not name (120 KB).
  const deepStatus = Buffer.from(JSON.stringify(status('hf-0001', 7, STREAM, '2099-01-01T00:00:00.000Z')).replace(/}$/, `,"x":${nest(60_000)}}`));
  const deepEvent = Buffer.from(JSON.stringify({ ...event('hf-0001', 8), data: { a: JSON.parse(nest(70)) } }));
  for (const [topic, payload, seq] of [[upTopic('hf-0001', 'status'), deepStatus, 7], [upTopic('hf-0001', 'event'), deepEvent, 8]] as const) {
    await c.publishAsync(topic, payload, { qos: 1 });
    const ack = await acks.next();
    t.same(ack.acked, [], 'nothing acked');
    t.equal(ack.rejected[0]?.seq, seq, 'the seq is acked as rejected, so the agent drops it');
    t.match(ack.rejected[0]?.reason, /^too-deep: payload refused: JSON nests \d+ levels deep; the limit is 64$/);
  }
  const line = await logs.waitFor(/nests 60001 levels/);
  t.match(line.msg, /site hf-0001 on sentinela\/v1\/site\/hf-0001\/up\/status: payload refused: JSON nests 60001 levels deep; the limit is 64/, 'site, topic and depth named');
  t.equal(db.prepare('SELECT COUNT(*) FROM messages').pluck().get(), 0, 'nothing stored');
  t.equal(db.prepare("SELECT last_status_json FROM sites WHERE id = 'hf-0001'").pluck().get(), null, 'no latest status');
  t.ok(c.connected, 'the site stays connected: its next message is taken');
});

t.test('oversized publish closed by the packet guard', async (t) => {
  const { hub, db, logs } = await startTestHub(t);
  const pw = enrolSite(db, 'hf-0001');
  const pw2 = enrolSite(db, 'hf-0002');
  const big = await connectSite(t, hub.mqttPort, 'hf-0001', pw);
  const other = await connectSite(t, hub.mqttPort, 'hf-0002', pw2);
  const rssBefore = process.memoryUsage().rss;
  const closed = new Promise<void>((r) => big.once('close', () => r()));
  big.publish(upTopic('hf-0001', 'status'), Buffer.alloc(10 * 1024 * 1024, 0x20), { qos: 1 });
  await closed;
  const line = await logs.waitFor(/exceeds the limit/);
  t.match(line.msg, /^packet of 104857\d\d bytes from site hf-0001 \(127\.0\.0\.1\) exceeds the limit of \d+ bytes; connection closed$/);
  t.ok(process.memoryUsage().rss - rssBefore < 100 * 1024 * 1024, 'memory did not grow by the packet');
  const acks = await collect(other, downTopic('hf-0002', 'ack'));
  await other.publishAsync(upTopic('hf-0002', 'status'), encodeUp(status('hf-0002', 1)), { qos: 1 });
  t.same((await acks.next()).acked, [[1, 1]], 'other clients keep working');

  // Before CONNECT too: an unauthenticated socket announcing a huge packet is cut off by address.
  const sock = net.connect(hub.mqttPort, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const sockClosed = new Promise((r) => sock.once('close', r));
  sock.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
  await sockClosed;
  await logs.waitFor(/^packet of 268435455 bytes from 127\.0\.0\.1 exceeds the limit/);
});

t.test('wills: death ends the connection, a stale death is ignored', async (t) => {
  const { hub, db, logs } = await startTestHub(t);
  const pw = enrolSite(db, 'hf-0001');
  const will = (bdSeq: number) => ({ topic: upTopic('hf-0001', 'death'), payload: encodeUp(death('hf-0001', bdSeq)), qos: 1 as const, retain: false });
  const c1 = await connectSite(t, hub.mqttPort, 'hf-0001', pw, { will: will(1) });
  await c1.publishAsync(upTopic('hf-0001', 'birth'), encodeUp(birth('hf-0001', 1)), { qos: 1 });
  await logs.waitFor(/site hf-0001 connected \(agent 0\.1\.0, bdSeq 1\)/);

  // Lost connection: the will marks the site disconnected.
  c1.stream.destroy();
  await logs.waitFor(/site hf-0001 disconnected \(connection lost, bdSeq 1\)/);
  t.equal((db.prepare('SELECT connected FROM sites').get() as { connected: number }).connected, 0);

  // Reconnect with bdSeq 2; the old connection's will arriving late must not mark it offline.
  const c2 = await connectSite(t, hub.mqttPort, 'hf-0001', pw, { will: will(2) });
  await c2.publishAsync(upTopic('hf-0001', 'birth'), encodeUp(birth('hf-0001', 2)), { qos: 1 });
  await logs.waitFor(/bdSeq 2\)/);
  await c2.publishAsync(upTopic('hf-0001', 'death'), encodeUp(death('hf-0001', 1)), { qos: 1 });
  await logs.waitFor(/ignored a stale death of site hf-0001 \(bdSeq 1, current connection is bdSeq 2\)/);
  t.equal((db.prepare('SELECT connected FROM sites').get() as { connected: number }).connected, 1, 'still connected');

  // A will naming another site's topic is refused like a publish.
  const c3 = await connectSite(t, hub.mqttPort, 'hf-0001', pw, {
    clientId: 'hf-0001',
    will: { topic: upTopic('hf-0002', 'death'), payload: encodeUp(death('hf-0002', 1)), qos: 1, retain: false },
  });
  c3.stream.destroy();
  await logs.waitFor(/site hf-0001 tried to publish to site hf-0002's topic .* \(will message\)/);
});

t.test('TLS listener', async (t) => {
  const certs = makeTestCerts(tempDir(t));
  const { hub, db, logs } = await startTestHub(t, { mqtt: { listen: { host: '127.0.0.1', port: 0 }, tls: { certFile: certs.certFile, keyFile: certs.keyFile } } });
  t.notOk(logs.find((l) => /plain TCP/.test(l.msg)), 'no plaintext warning');
  const pw = enrolSite(db, 'hf-0001');
  const c = await new Promise<MqttClient>((resolve, reject) => {
    const client = mqtt.connect(`mqtts://127.0.0.1:${hub.mqttPort}`, { clientId: 'hf-0001', username: 'hf-0001', password: pw, ca: readFileSync(certs.caFile), reconnectPeriod: 0 });
    t.teardown(() => client.end(true));
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
  const acks = await collect(c, downTopic('hf-0001', 'ack'));
  await c.publishAsync(upTopic('hf-0001', 'status'), encodeUp(status('hf-0001', 1)), { qos: 1 });
  t.same((await acks.next()).acked, [[1, 1]], 'acked over TLS');
  await t.rejects(connectSite(t, hub.mqttPort, 'hf-0001', pw), 'plain MQTT is not served on the TLS port');
  await logs.waitFor(/TLS handshake from .* failed/);
  // A peer that resets mid-handshake (a scanner, a dropped link): its address is still named.
  const reset = net.connect(hub.mqttPort, '127.0.0.1');
  reset.on('error', () => undefined);
  await new Promise((r) => reset.once('connect', r));
  reset.write(Buffer.from([0x16, 3, 1, 0, 200, 1, 0, 0]));
  await sleep(50);
  reset.resetAndDestroy();
  const line = await logs.waitFor(/TLS handshake from .* failed: .*ECONNRESET/);
  t.equal(line.msg, 'TLS handshake from 127.0.0.1 failed: read ECONNRESET', 'the peer named, not "undefined"');
  t.notOk(logs.find((l) => /from undefined/.test(l.msg)), 'no line says "from undefined"');
});

t.test('fast lane: a site that only publishes keeps its connection past its keep-alive', async (t) => {
  // Its PUBLISHes never reach aedes, and mqtt.js sends no PINGREQ while it publishes: the lane
  // itself must tell aedes the client is alive (aedes closes at 1.5 × keep-alive otherwise).
  const { hub, db, logs } = await startTestHub(t);
  const pw = enrolSite(db, 'hf-0001');
  const c = await connectSite(t, hub.mqttPort, 'hf-0001', pw, { keepalive: 1 });
  let closed = false;
  c.on('close', () => (closed = true));
  for (let seq = 1; seq <= 14; seq++) {
    c.publish(upTopic('hf-0001', 'status'), encodeUp(status('hf-0001', seq)), { qos: 1 });
    await sleep(250);
  }
  t.notOk(closed, 'still connected after 3.5 s (keep-alive 1 s)');
  t.notOk(logs.lines.some((l) => /keep.?alive/i.test(l.msg)), 'no keep-alive timeout logged');
  const rows = () => db.prepare('SELECT COUNT(*) FROM messages WHERE site_id = ?').pluck().get('hf-0001') as number;
  for (let i = 0; i < 100 && rows() < 14; i++) await sleep(20);
  t.equal(rows(), 14, 'every message stored');
});

t.test('what the fast lane leaves to aedes is still ingested (QoS 0); a lane packet cut into bytes is whole', async (t) => {
  const { hub, db } = await startTestHub(t);
  const pw = enrolSite(db, 'hf-0001');
  const pw2 = enrolSite(db, 'hf-0002');
  const rows = (site: string) => db.prepare('SELECT seq FROM messages WHERE site_id = ? ORDER BY seq').pluck().all(site) as number[];
  const waitRows = async (site: string, n: number) => {
    for (let i = 0; i < 250 && rows(site).length < n; i++) await sleep(20);
  };

  const c = await connectSite(t, hub.mqttPort, 'hf-0001', pw);
  await c.publishAsync(upTopic('hf-0001', 'status'), encodeUp(status('hf-0001', 1)), { qos: 1 });
  await c.publishAsync(upTopic('hf-0001', 'status'), encodeUp(status('hf-0001', 2)), { qos: 0 });
  await waitRows('hf-0001', 2);
  t.same(rows('hf-0001'), [1, 2], 'QoS 1 through the lane, QoS 0 through aedes');

  // A raw MQTT 3.1.1 client writing one byte at a time: CONNECT, then two PUBLISHes to the lane.
  const sock = net.connect(hub.mqttPort, '127.0.0.1');
  t.teardown(() => sock.destroy());
  await new Promise((r) => sock.once('connect', r));
  const received: Buffer[] = [];
  sock.on('data', (d) => received.push(d));
  const str = (s: string) => {
    const b = Buffer.from(s);
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  };
  const withLength = (first: number, body: Buffer) => Buffer.concat([Buffer.from([first, ...varint(body.length)]), body]);
  const connectPkt = withLength(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 30]), str('hf-0002'), str('hf-0002'), str(pw2)]));
  sock.write(connectPkt);
  for (let i = 0; i < 100 && Buffer.concat(received).length < 4; i++) await sleep(10);
  t.same([...Buffer.concat(received).subarray(0, 4)], [0x20, 2, 0, 0], 'CONNACK: accepted');
  const publish = (seq: number, id: number) =>
    withLength(0x32, Buffer.concat([str(upTopic('hf-0002', 'status')), Buffer.from([id >> 8, id & 0xff]), Buffer.from(encodeUp(status('hf-0002', seq)))]));
  const bytes = Buffer.concat([publish(1, 0x0102), publish(2, 0x0304)]);
  for (const b of bytes) {
    sock.write(Buffer.from([b]));
    await new Promise((r) => setImmediate(r));
  }
  await waitRows('hf-0002', 2);
  t.same(rows('hf-0002'), [1, 2], 'both stored');
  for (let i = 0; i < 100 && Buffer.concat(received).length < 12; i++) await sleep(10);
  t.same([...Buffer.concat(received).subarray(4, 12)], [0x40, 2, 1, 2, 0x40, 2, 3, 4], 'a PUBACK for each, with its packet id, in order');
});

t.test('acks: QoS 0 to a connected site; kept at QoS 1 in the session of a site that dropped off', async (t) => {
  // Commits at most every second, so that the second site can leave between its PUBACK and its ack.
  const { hub, db } = await startTestHub(t, { store: { commitIntervalMs: 1000 } });
  const pw = enrolSite(db, 'hf-0001');
  const live = await connectSite(t, hub.mqttPort, 'hf-0001', pw);
  const got: Array<{ qos: number; acked: unknown }> = [];
  live.on('message', (_topic, payload, packet) => got.push({ qos: packet.qos, acked: JSON.parse(payload.toString('utf8')).acked }));
  await live.subscribeAsync(downTopic('hf-0001', 'ack'), { qos: 1 });
  await live.publishAsync(upTopic('hf-0001', 'status'), encodeUp(status('hf-0001', 1)), { qos: 1 });
  for (let i = 0; i < 150 && got.length === 0; i++) await sleep(20);
  t.same(got, [{ qos: 0, acked: [[1, 1]] }], 'a connected site gets its ack at QoS 0');

  const pw2 = enrolSite(db, 'hf-0002');
  const opts = { clientId: 'hf-0002', username: 'hf-0002', password: pw2, clean: false, reconnectPeriod: 0, protocolVersion: 4 as const };
  const first = await connectSite(t, hub.mqttPort, 'hf-0002', pw2, { clean: false });
  await first.subscribeAsync(downTopic('hf-0002', 'ack'), { qos: 1 });
  await first.publishAsync(upTopic('hf-0002', 'status'), encodeUp(status('hf-0002', 1)), { qos: 1 });
  await first.endAsync();
  const stored = () => db.prepare('SELECT COUNT(*) FROM messages WHERE site_id = ?').pluck().get('hf-0002') as number;
  for (let i = 0; i < 150 && stored() === 0; i++) await sleep(20);
  t.equal(stored(), 1, 'stored after the site left');
  await hub.ingest.flush();
  // Back with its persistent session: the ack waited for it.
  const again = mqtt.connect(`mqtt://127.0.0.1:${hub.mqttPort}`, opts);
  t.teardown(() => again.endAsync(true).catch(() => undefined));
  const ack = await new Promise<{ qos: number; acked: unknown }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ack within 5 s of reconnecting')), 5000);
    again.on('message', (_topic, payload, packet) => {
      clearTimeout(timer);
      resolve({ qos: packet.qos, acked: JSON.parse(payload.toString('utf8')).acked });
    });
  });
  t.same(ack, { qos: 1, acked: [[1, 1]] }, 'the ack published while it was away arrives on reconnect, at QoS 1');
});

t.test('a truncated PUBLISH after CONNACK closes only its own connection (issue 18 item 1)', async (t) => {
  const { hub, db, logs } = await startTestHub(t);
  const pw = enrolSite(db, 'hf-0001');
  const pw2 = enrolSite(db, 'hf-0002');
  const other = await connectSite(t, hub.mqttPort, 'hf-0002', pw2);
  const str = (s: string) => {
    const b = Buffer.from(s);
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  };
  const withLength = (first: number, body: Buffer) => Buffer.concat([Buffer.from([first, ...varint(body.length)]), body]);
  const connectPkt = withLength(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 30]), str('hf-0001'), str('hf-0001'), str(pw)]));
  const topic = str(upTopic('hf-0001', 'status'));
  // Every body too short for its topic length, its topic or its packet id, with and without DUP/RETAIN bits.
  const bodies = [Buffer.alloc(0), Buffer.from([0]), Buffer.from([0, 5]), Buffer.from([0, 5, 0x61]), topic.subarray(0, topic.length - 1), topic, Buffer.concat([topic, Buffer.from([1])])];
  let n = 0;
  for (const first of [0x32, 0x3a, 0x33]) {
    for (const body of bodies) {
      const sock = net.connect(hub.mqttPort, '127.0.0.1');
      t.teardown(() => sock.destroy());
      await new Promise((r) => sock.once('connect', r));
      const received: Buffer[] = [];
      sock.on('data', (d) => received.push(d));
      sock.on('error', () => undefined);
      const closed = new Promise<void>((r) => sock.once('close', () => r()));
      sock.write(connectPkt);
      for (let i = 0; i < 200 && Buffer.concat(received).length < 4; i++) await sleep(5);
      t.same([...Buffer.concat(received).subarray(0, 4)], [0x20, 2, 0, 0], `CONNACK before packet ${first.toString(16)} ${body.toString('hex')}`);
      sock.write(withLength(first, body));
      await closed;
      n++;
    }
  }
  t.equal(n, 21, 'each malformed PUBLISH closed its own connection');
  await logs.waitFor(/malformed|connection closed/);
  // The hub still serves the other site.
  await other.publishAsync(upTopic('hf-0002', 'status'), encodeUp(status('hf-0002', 1)), { qos: 1 });
  const stored = () => db.prepare('SELECT COUNT(*) FROM messages WHERE site_id = ?').pluck().get('hf-0002') as number;
  for (let i = 0; i < 150 && stored() === 0; i++) await sleep(20);
  t.equal(stored(), 1, 'another site is still served');
  t.ok(other.connected, 'and stayed connected');
});
