import t from 'tap';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { downTopic } from '@sentinela/shared';
import { Outbox } from '../outbox/outbox.js';
import { HubLink, type LinkOptions } from './link.js';
import { BROKER_URL, closedPort, memoryLogger, purgeSession, statusBuild, tempDir, TestHub, uniqueSite, waitFor, type Teardown } from '../fixtures.test-support.js';

async function setup(t: Teardown, opts: Partial<LinkOptions> = {}, prefill?: (ob: Outbox, site: string) => void) {
  const site = uniqueSite('link');
  const { logger, lines } = memoryLogger();
  const outbox = Outbox.open({ path: join(tempDir(t), 'outbox.db'), siteId: site, resendAfterSeconds: 60, logger });
  prefill?.(outbox, site);
  const hub = await TestHub.start(site);
  const link = new HubLink({
    url: BROKER_URL,
    siteId: site,
    username: site,
    password: 'secret',
    keepaliveSeconds: 30,
    connectTimeoutSeconds: 5,
    reconnectSeconds: 1,
    inflight: 50,
    drainPerSecond: 200,
    outbox,
    logger,
    ...opts,
  });
  t.teardown(async () => {
    await link.close();
    await hub.close();
    outbox.close();
    await purgeSession(site);
  });
  return { site, outbox, hub, link, lines };
}

t.test('birth on connect, live messages sent promptly, deleted on ack', async (t) => {
  const { outbox, hub, link, lines } = await setup(t);
  link.start();
  await waitFor(() => hub.of('birth').length === 1, 10_000, 'birth');
  const birth = hub.of('birth')[0]!;
  t.equal(birth.stream, outbox.stream);
  t.equal(birth.bdSeq, link.currentBdSeq);
  t.equal(birth.agent.node, process.version);
  t.ok(lines.some((l) => String(l.msg).startsWith(`connected to hub ${BROKER_URL}`)), 'connect is logged');
  const started = Date.now();
  const seqs = [outbox.appendEvent('test.live', 'info', 'live one').seq, outbox.append('status', statusBuild(hub.site)).seq];
  await waitFor(() => outbox.stats().pending === 0, 10_000, 'acks');
  t.ok(Date.now() - started < 3000, 'live messages go out at once, not on a slow poll');
  t.same(hub.queuedSeqs().sort(), seqs.sort());
});

t.test('unacked messages are resent after a reconnect; death will on a broken link', async (t) => {
  const { outbox, hub, link } = await setup(t);
  hub.autoAck = false;
  link.start();
  await waitFor(() => link.connected, 10_000, 'connect');
  const seqs = Array.from({ length: 5 }, (_, i) => outbox.appendEvent('test.queued', 'info', `m${i}`).seq);
  await waitFor(() => hub.queuedSeqs().length >= 5, 10_000, 'first delivery');
  const firstBdSeq = link.currentBdSeq;
  // Break the TCP connection without a DISCONNECT, as a WAN drop would.
  link.mqttClient!.stream.destroy();
  await waitFor(() => hub.of('death').length >= 1, 10_000, 'last will');
  t.same(hub.of('death')[0], { v: 1, site: hub.site, type: 'death', bdSeq: firstBdSeq, clean: false });
  await waitFor(() => hub.of('birth').length >= 2, 10_000, 'second birth');
  t.ok(hub.of('birth')[1]!.bdSeq > firstBdSeq, 'a new bdSeq for the new connection');
  await waitFor(() => seqs.every((s) => hub.queuedSeqs().filter((x) => x === s).length >= 2), 10_000, 'resend');
  t.equal(outbox.stats().pending, 5, 'nothing left the outbox without an ack');
  await hub.ack(outbox.stream, seqs.slice(0, 3));
  await waitFor(() => outbox.stats().pending === 2, 5_000, 'partial ack');
  t.same(
    outbox.nextToSend(10, Date.now() + 3600_000).map((r) => r.seq),
    seqs.slice(3),
    'only the acked seqs were deleted',
  );
});

t.test('rejected seqs are dropped and logged; invalid and foreign acks ignored', async (t) => {
  const { outbox, hub, link, lines, site } = await setup(t);
  hub.autoAck = false;
  link.start();
  await waitFor(() => link.connected, 10_000, 'connect');
  const a = outbox.appendEvent('test.x', 'info', 'a').seq;
  const b = outbox.appendEvent('test.x', 'info', 'b').seq;
  await waitFor(() => hub.queuedSeqs().length >= 2, 10_000, 'delivery');
  await hub.client.publishAsync(downTopic(site, 'ack'), Buffer.from('{"not":"an ack"'), { qos: 1 });
  await hub.ack('someotherstream123', [a, b]);
  await hub.ack(outbox.stream, [a], [{ seq: b, reason: 'too large' }]);
  await waitFor(() => outbox.stats().pending === 0, 5_000, 'ack + reject');
  t.ok(lines.some((l) => String(l.msg).includes('ignored an invalid message from the hub')), 'invalid message logged');
  t.ok(lines.some((l) => String(l.msg).includes('ignored an ack for stream someotherstream123')), 'foreign stream logged');
  t.ok(lines.some((l) => String(l.msg) === `hub rejected message ${b}: too large; dropped it from the outbox`), 'rejection logged');
  t.ok(link.connected, 'still connected');
});

t.test('a backlog drains at the configured rate, events first', async (t) => {
  const { hub, link } = await setup(t, { drainPerSecond: 5, inflight: 1000 }, (ob, site) => {
    for (let i = 0; i < 60; i++) ob.append('status', statusBuild(site));
    ob.appendEvent('test.urgent', 'critical', 'urgent');
  });
  link.start();
  await waitFor(() => hub.of('birth').length === 1, 10_000, 'birth');
  const t0 = hub.received.find((r) => r.message.type === 'birth')!.at;
  await new Promise((r) => setTimeout(r, 2500));
  const queued = hub.received.filter((r) => r.message.type === 'status' || r.message.type === 'event');
  const inWindow = queued.filter((r) => r.at - t0 <= 2000).length;
  t.ok(inWindow >= 3, `some messages flowed (${inWindow})`);
  t.ok(inWindow <= 5 + 2 * 5 + 5, `rate limited: ${inWindow} in 2 s at 5/s with a burst of 5`);
  t.equal(queued[0]!.message.type, 'event', 'the critical event went first');
});

t.test('clean close sends death {clean:true}', async (t) => {
  const { hub, link } = await setup(t);
  link.start();
  await waitFor(() => hub.of('birth').length === 1, 10_000, 'birth');
  const bdSeq = link.currentBdSeq;
  await link.close();
  await waitFor(() => hub.of('death').length >= 1, 5_000, 'death');
  await new Promise((r) => setTimeout(r, 300));
  t.same(
    hub.of('death'),
    [{ v: 1, site: hub.site, type: 'death', bdSeq, clean: true }],
    'one clean death, no will',
  );
});

t.test('unreachable hub is logged in plain words', async (t) => {
  const { link, lines, outbox } = await setup(t, { url: 'mqtt://127.0.0.1:1' });
  outbox.appendEvent('test.x', 'info', 'queued while offline');
  link.start();
  await waitFor(() => lines.some((l) => String(l.msg).startsWith('hub unreachable')), 10_000, 'log line');
  const line = lines.find((l) => String(l.msg).startsWith('hub unreachable'))!;
  t.equal(line.msg, 'hub unreachable: ECONNREFUSED; retrying every 1 s; 1 messages queued');
});

t.test('a refused password is logged with what to do', async (t) => {
  // A minimal broker that refuses every CONNECT with CONNACK return code 5 (not authorized).
  const net = await import('node:net');
  const srv = net.createServer((s) => {
    s.once('data', () => s.write(Buffer.from([0x20, 0x02, 0x00, 0x05])));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const port = (srv.address() as import('node:net').AddressInfo).port;
  const { link, lines } = await setup(t, { url: `mqtt://127.0.0.1:${port}` });
  link.start();
  await waitFor(() => lines.some((l) => String(l.msg).includes('refused the site')), 10_000, 'refusal log');
  const line = lines.find((l) => String(l.msg).includes('refused the site'))!;
  t.equal(line.level, 50, 'logged as an error');
  t.match(String(line.msg), /refused the site's password \(CONNACK 5: .*\); the site must be enrolled again: sentinela-agent enroll/);
  srv.close();
});

t.test('reconnect attempts during an outage write nothing to disk; numbers stay new across a restart', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'outbox.db');
  const site = uniqueSite('outage');
  const url = `mqtt://127.0.0.1:${await closedPort()}`;
  const { logger } = memoryLogger('error');
  const linkOpts = { url, siteId: site, username: site, password: 'x', keepaliveSeconds: 30, connectTimeoutSeconds: 5, reconnectSeconds: 0.02, inflight: 10, drainPerSecond: 10, logger };
  const outage = async (outbox: Outbox, attempts: number) => {
    const link = new HubLink({ ...linkOpts, outbox });
    const seen = new Set<number>();
    link.start();
    await waitFor(() => (seen.add(link.currentBdSeq), seen.size >= 3), 10_000, 'first attempts');
    // Every commit appends at least one page to the WAL (no checkpoint comes before 1,000 pages).
    const wal = statSync(`${path}-wal`).size;
    await waitFor(() => (seen.add(link.currentBdSeq), seen.size >= attempts), 20_000, `${attempts} attempts`);
    const grew = statSync(`${path}-wal`).size - wal;
    await link.close();
    return { seen, grew };
  };
  let outbox = Outbox.open({ path, siteId: site });
  const first = await outage(outbox, 40);
  t.equal(first.grew, 0, `no write to the outbox over ${first.seen.size} connection attempts`);
  outbox.close();
  // A power cut: the next start must not reuse any number an attempt may have put in a will.
  outbox = Outbox.open({ path, siteId: site });
  t.teardown(() => outbox.close());
  const second = await outage(outbox, 5);
  t.ok(Math.min(...second.seen) > Math.max(...first.seen), 'after a restart every number is newer than any used before');
});
