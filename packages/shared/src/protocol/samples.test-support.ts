/** Protocol messages for tests: one valid sample of each, and ways to spoil them. */

/** A status as an agent sends it, with sections and a key from a newer agent. */
export const status = {
  v: 1, type: 'status', site: 'hf-1', stream: 'stream-abc', seq: 7, ts: '2026-11-24T10:00:00.000Z',
  host: {
    hostname: 'hf-1-server', uptimeSec: 86_400,
    cpu: { cores: 4, load1: 0.42, load5: 0.35, load15: 0.3, usagePct: 12.5 },
    memory: { totalBytes: 8e9, usedBytes: 3.2e9, availableBytes: 4.8e9 },
    filesystems: [{ mount: '/', fs: '/dev/sda2', type: 'ext4', sizeBytes: 240e9, usedBytes: 61e9, usePct: 25.4 }],
  },
  services: [{ name: 'openmrs-db', target: '127.0.0.1:3306', up: true, latencyMs: 0.8 }],
  outbox: { pending: 3, pendingBytes: 1200, oldestTs: null, thinned: 0 },
  power: {
    watch: 'on', role: 'primary', source: 'nut ups@127.0.0.1:3493', contact: 'ok', state: 'battery', flags: ['OB', 'DISCHRG'],
    charge: 87.5, runtimeSec: 1260, loadPct: 31, inputVoltage: null, lastSeenAt: '2026-11-24T09:59:58.000Z',
    onBatterySince: '2026-11-24T09:40:00.000Z', shutdownDueAt: null,
    outage: { start: '2026-11-24T09:40:00.000Z', end: null, durationSec: null, lowestCharge: 86, shutdown: false }, lastOutage: null,
  },
  network: {
    verdict: 'ok', lan: null, dns: null, hub: { target: 'hub:8883', up: true, latencyMs: 12, lossPct: 0 }, mqttRttMs: 15,
    wan: { up: true, since: '2026-11-24T09:00:00Z', uptimeTodayPct: 100, uptimeYesterdayPct: 99.5, outage: null, lastOutage: null },
    interfaces: [],
  },
  extra: { fromANewerAgent: true },
};
export const event = {
  v: 1, type: 'event', site: 'hf-1', stream: 'stream-abc', seq: 8, ts: '2026-11-24T10:00:00+01:00',
  code: 'service.down', severity: 'warning', message: 'Database service is not answering', data: { target: '127.0.0.1:3306' },
};
export const birth = {
  v: 1, type: 'birth', site: 'hf-1', ts: '2026-11-24T10:00:00Z', bdSeq: 0, stream: 'stream-abc',
  agent: { version: '0.1.0', hostname: 'h', platform: 'linux', node: 'v20' }, outbox: { pending: 0, pendingBytes: 0, oldestTs: null, thinned: 0 },
};
/** A restore drill's report: one copy passed, one failed. */
export const drill = {
  v: 1, type: 'drill', site: 'hf-1', stream: 'stream-abc', seq: 9, ts: '2026-11-24T03:10:00.000Z',
  drill: {
    by: 'schedule', startedAt: '2026-11-24T03:00:00.000Z', finishedAt: '2026-11-24T03:09:30.000Z', host: 'hf-1-server',
    versions: { agent: '0.1.0', node: '22.11.0', mariadbd: '10.11.6-MariaDB' }, ok: false,
    results: [
      { source: 'emr', kind: 'mariadb', location: 'spool', snapshot: '20261124T020000Z-emr-abc123', ok: true, problems: [], rtoSeconds: 212.4, projectedRtoSeconds: 212, rpoSeconds: 4200, bytes: 1_200_000_000 },
      { source: 'emr', kind: 'mariadb', location: 'usb:disco A', snapshot: null, ok: false, problems: ['no snapshot of emr here'], rtoSeconds: 0.1, projectedRtoSeconds: null, rpoSeconds: null, bytes: 0 },
    ],
  },
};
export const death = { v: 1, type: 'death', site: 'hf-1', bdSeq: 0, clean: false };
export const ack = { v: 1, type: 'ack', site: 'hf-1', stream: 'stream-abc', acked: [[1, 3], [5, 5]], rejected: [{ seq: 4, reason: 'invalid: x' }] };

/** Odd values put in place of each field in turn. */
const ODD: unknown[] = [undefined, null, -1, 0, 1.5, 101, 1e400, Number.MAX_SAFE_INTEGER + 2, '', 'x', '2026-02-30T10:00:00Z', true, [], {}, [1, 1], [3, 1]];

/** Every variant of `root` with one field replaced (or removed), plus extra and __proto__ keys on each object. */
export function* mutations(root: unknown): Generator<unknown> {
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

