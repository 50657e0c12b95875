import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { z } from 'zod';
import { compileAccept } from './schema-check.js';
import { DownMessage, UpMessage } from './messages.js';
import { decodeUp } from './codec.js';
import { upTopic } from './topics.js';

const status = {
  v: 1, type: 'status', site: 'hf-1', stream: 'stream-abc', seq: 7, ts: '2026-11-24T10:00:00.000Z',
  host: {
    hostname: 'hf-1-server', uptimeSec: 86_400,
    cpu: { cores: 4, load1: 0.42, load5: 0.35, load15: 0.3, usagePct: 12.5 },
    memory: { totalBytes: 8e9, usedBytes: 3.2e9, availableBytes: 4.8e9 },
    filesystems: [{ mount: '/', fs: '/dev/sda2', type: 'ext4', sizeBytes: 240e9, usedBytes: 61e9, usePct: 25.4 }],
  },
  services: [{ name: 'openmrs-db', target: '127.0.0.1:3306', up: true, latencyMs: 0.8 }],
  outbox: { pending: 3, pendingBytes: 1200, oldestTs: null, thinned: 0 },
  network: {
    verdict: 'ok', lan: null, dns: null, hub: { target: 'hub:8883', up: true, latencyMs: 12, lossPct: 0 }, mqttRttMs: 15,
    wan: { up: true, since: '2026-11-24T09:00:00Z', uptimeTodayPct: 100, uptimeYesterdayPct: 99.5, outage: null, lastOutage: null },
    interfaces: [],
  },
  extra: { fromANewerAgent: true },
};
const event = {
  v: 1, type: 'event', site: 'hf-1', stream: 'stream-abc', seq: 8, ts: '2026-11-24T10:00:00+01:00',
  code: 'service.down', severity: 'warning', message: 'Database service is not answering', data: { target: '127.0.0.1:3306' },
};
const birth = {
  v: 1, type: 'birth', site: 'hf-1', ts: '2026-11-24T10:00:00Z', bdSeq: 0, stream: 'stream-abc',
  agent: { version: '0.1.0', hostname: 'h', platform: 'linux', node: 'v20' }, outbox: { pending: 0, pendingBytes: 0, oldestTs: null, thinned: 0 },
};
const death = { v: 1, type: 'death', site: 'hf-1', bdSeq: 0, clean: false };
const ack = { v: 1, type: 'ack', site: 'hf-1', stream: 'stream-abc', acked: [[1, 3], [5, 5]], rejected: [{ seq: 4, reason: 'invalid: x' }] };

/** Odd values put in place of each field in turn. */
const ODD: unknown[] = [undefined, null, -1, 0, 1.5, 101, 1e400, Number.MAX_SAFE_INTEGER + 2, '', 'x', '2026-02-30T10:00:00Z', true, [], {}, [1, 1], [3, 1]];

/** Every variant of `root` with one field replaced (or removed), plus extra and __proto__ keys on each object. */
function* mutations(root: unknown): Generator<unknown> {
  const clone = () => JSON.parse(JSON.stringify(root)) as unknown;
  function* walk(path: Array<string | number>, node: unknown): Generator<Array<string | number>> {
    yield path;
    if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) yield* walk([...path, Array.isArray(node) ? Number(k) : k], v);
  }
  for (const path of walk([], root)) {
    for (const odd of ODD) {
      if (path.length === 0) {
        yield odd;
        continue;
      }
      const copy = clone() as Record<string | number, unknown>;
      let parent = copy;
      for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
      const last = path[path.length - 1]!;
      if (odd === undefined && !Array.isArray(parent)) delete parent[last];
      else parent[last] = odd;
      yield copy;
    }
    const copy = clone() as Record<string, unknown>;
    let node: unknown = copy;
    for (const k of path) node = (node as Record<string | number, unknown>)[k];
    if (node && typeof node === 'object' && !Array.isArray(node)) {
      (node as Record<string, unknown>).unknownKey = 1;
      yield JSON.parse(JSON.stringify(copy));
      yield JSON.parse(JSON.stringify(copy).replace('"unknownKey"', '"__proto__"'));
    }
  }
}

t.test('the protocol schemas compile, and the compiled test accepts what the agents send', async (t) => {
  const up = compileAccept(UpMessage);
  const down = compileAccept(DownMessage);
  t.ok(up, 'UpMessage compiles');
  t.ok(down, 'DownMessage compiles');
  for (const m of [status, event, birth, death]) t.ok(up!(JSON.parse(JSON.stringify(m))), `${m.type} accepted without zod`);
  t.ok(down!(ack), 'ack accepted without zod');
  // Discriminated unions are checked by the option their tag names.
  t.notOk(up!({ ...status, type: 'event' }), 'a status body tagged as an event is not accepted');
  t.notOk(up!({ ...status, type: 'telemetry' }), 'an unknown tag is not accepted');
  t.notOk(up!([status]), 'an array is not a message');
});

t.test('the compiled test never accepts what zod refuses or would change', async (t) => {
  const cases: Array<[string, z.ZodType, unknown]> = [
    ['status', UpMessage, status],
    ['event', UpMessage, event],
    ['birth', UpMessage, birth],
    ['death', UpMessage, death],
    ['ack', DownMessage, ack],
  ];
  for (const [name, schema, sample] of cases) {
    const accept = compileAccept(schema)!;
    let tried = 0;
    let refusedByZod = 0;
    let wrong = 0;
    for (const value of mutations(sample)) {
      tried++;
      const zod = schema.safeParse(value);
      if (!zod.success) refusedByZod++;
      if (accept(value) && !(zod.success && isDeepStrictEqual(zod.data, value))) {
        wrong++;
        t.fail(`${name}: accepted ${JSON.stringify(value)?.slice(0, 300)}`);
      }
    }
    t.equal(wrong, 0, `${name}: ${tried} variants (${refusedByZod} refused by zod): the compiled test accepted none that zod refuses or changes`);
  }
});

t.test('a malformed payload still gets zod\'s error naming the field', async (t) => {
  const r = decodeUp(upTopic('hf-1', 'status'), Buffer.from(JSON.stringify({ ...status, host: { ...status.host, cpu: { ...status.host.cpu, usagePct: 140 } } })));
  t.notOk(r.ok);
  if (!r.ok) t.match(r.error.message, /host\.cpu\.usagePct: .*found number 140/);
});

t.test('schemas with parts it does not compile are left to zod', async (t) => {
  t.equal(compileAccept(z.object({ a: z.string().transform((s) => s.length) })), null);
  t.equal(compileAccept(z.object({ a: z.string().default('x') })), null);
  t.equal(compileAccept(z.object({ url: z.url() })), null);
  const strip = compileAccept(z.object({ a: z.string() }))!;
  t.ok(strip({ a: 'x' }));
  t.notOk(strip({ a: 'x', b: 1 }), 'a stripping object with an extra key is left to zod (it would change the value)');
});
