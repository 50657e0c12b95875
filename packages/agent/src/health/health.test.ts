import t from 'tap';
import net from 'node:net';
import { encodeUp, PROTOCOL_VERSION } from '@sentinela/shared';
import { sampleHost } from './sampler.js';
import { probeService } from './service-probe.js';
import { ServiceWatch } from './service-watch.js';
import { closedPort } from '../fixtures.test-support.js';

t.test('host sample is a valid status body', async (t) => {
  const host = await sampleHost();
  t.ok(host.hostname.length > 0);
  t.ok(host.cpu.cores >= 1);
  t.ok(host.memory.totalBytes > 0);
  t.ok(host.filesystems.some((f) => f.mount === '/'), 'the root filesystem is listed');
  // encodeUp validates against the shared schema
  const bytes = encodeUp({
    v: PROTOCOL_VERSION,
    site: 'hc-x',
    stream: 'abcdefgh12345678',
    seq: 1,
    ts: new Date().toISOString(),
    type: 'status',
    host,
    services: [],
  });
  t.ok(bytes.byteLength > 100);
});

t.test('service probe: up with latency, down with the error code', async (t) => {
  const srv = net.createServer((s) => s.end());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const port = (srv.address() as net.AddressInfo).port;
  const up = await probeService({ name: 'db', tcp: `127.0.0.1:${port}`, timeoutMs: 1000 });
  t.equal(up.up, true);
  t.type(up.latencyMs, 'number');
  const closed = await closedPort();
  const down = await probeService({ name: 'db', tcp: `127.0.0.1:${closed}`, timeoutMs: 1000 });
  t.same({ up: down.up, error: down.error, target: down.target }, { up: false, error: 'ECONNREFUSED', target: `127.0.0.1:${closed}` });
});

t.test('service watch: events only on transitions', async (t) => {
  const w = new ServiceWatch();
  const up = { name: 'openmrs-db', target: '127.0.0.1:3306', up: true, latencyMs: 1 };
  const down = { name: 'openmrs-db', target: '127.0.0.1:3306', up: false, error: 'ECONNREFUSED' };
  t.same(w.update([up], 0), [], 'first check up: nothing to say');
  t.same(w.update([up], 1000), [], 'steady up: nothing');
  const [ev] = w.update([down], 2000);
  t.equal(ev!.code, 'service.down');
  t.equal(ev!.severity, 'warning');
  t.equal(ev!.message, 'Service openmrs-db at 127.0.0.1:3306 is not answering: ECONNREFUSED');
  t.same(w.update([down], 3000), [], 'steady down: nothing');
  const [back] = w.update([up], 62_000);
  t.equal(back!.code, 'service.up');
  t.equal(back!.severity, 'info');
  t.match(back!.message, /answering again after 60 s down/);
  const w2 = new ServiceWatch();
  t.equal(w2.update([down])[0]!.code, 'service.down', 'down at the first check is reported');
});
