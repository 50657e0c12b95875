/**
 * A child process that plays N agents at once: each connects with its own credentials and publishes
 * status messages at QoS 1, keeping `window` unconfirmed at a time. A message is confirmed by the
 * hub's application-level ack (mode "app-ack": the row is committed) or, for a plain broker, by the
 * PUBACK (mode "puback").
 *
 * The generator must cost the same against both brokers and as little as possible (the machine
 * may have two cores): payloads are plain JSON.stringify of a sample that was checked once against
 * the shared schema (not zod per message), and acks are read with JSON.parse (not zod). The only
 * extra work in "app-ack" mode is what the protocol asks of an agent: read one ack per batch.
 *
 * Protocol with the parent (IPC): parent sends the LoadJob; the child connects every client and
 * sends {kind: 'connected'}; the parent samples CPU counters and sends {kind: 'go'}; the child
 * publishes and, when every message is confirmed, sends {kind: 'report', ...LoadReport}.
 */
import mqtt from 'mqtt';
import { downTopic, encodeUp, upTopic, type StatusMessage } from '@sentinela/shared';

export interface LoadJob {
  url: string;
  clients: Array<{ siteId: string; password: string }>;
  messagesPerClient: number;
  /** Each client's first seq (default 1): a later round against the same hub goes on from the last. */
  firstSeq?: number;
  window: number;
  mode: 'app-ack' | 'puback';
}

export interface LoadReport {
  connected: number;
  confirmed: number;
  /** Seqs the hub acked as rejected (must be 0: every sample is valid). */
  rejected: number;
  /** Wall clock (ms, performance.timeOrigin + now) when publishing started. */
  startedAt: number;
  elapsedMs: number;
  /** publish → confirm, ms, in confirm order. */
  latenciesMs: number[];
  /** Wall clock (ms) each message was published, index = client * messagesPerClient + seq - firstSeq. */
  sentAt: number[];
  /** This process's CPU time (user + system) while publishing, ms. */
  cpuMs: number;
}

export type ParentMessage = ({ kind: 'job' } & LoadJob) | { kind: 'go' };
export type ChildMessage = { kind: 'connected' } | ({ kind: 'report' } & LoadReport);

const wall = () => performance.timeOrigin + performance.now();

function sample(siteId: string, stream: string, seq: number): StatusMessage {
  return {
    v: 1, type: 'status', site: siteId, stream, seq, ts: new Date().toISOString(),
    host: {
      hostname: `${siteId}-server`, uptimeSec: 86_400 + seq,
      cpu: { cores: 4, load1: 0.42, load5: 0.35, load15: 0.3, usagePct: 12.5 },
      memory: { totalBytes: 8e9, usedBytes: 3.2e9, availableBytes: 4.8e9 },
      filesystems: [
        { mount: '/', fs: '/dev/sda2', type: 'ext4', sizeBytes: 240e9, usedBytes: 61e9, usePct: 25.4 },
        { mount: '/media/backup', fs: '/dev/sdb1', type: 'ext4', sizeBytes: 1e12, usedBytes: 320e9, usePct: 32 },
      ],
    },
    services: [{ name: 'openmrs-db', target: '127.0.0.1:3306', up: true, latencyMs: 0.8 }],
  };
}

interface ClientRun {
  client: mqtt.MqttClient;
  /** Starts publishing; later calls keep the window full. */
  pump: () => void;
  finished: Promise<void>;
}

interface Shared {
  job: LoadJob;
  latencies: number[];
  sentAt: number[];
  counts: { confirmed: number; rejected: number };
}

async function connectClient(sh: Shared, index: number, c: { siteId: string; password: string }): Promise<ClientRun> {
  const { job } = sh;
  const client = mqtt.connect(job.url, { clientId: c.siteId, username: c.siteId, password: c.password, clean: true, reconnectPeriod: 0, connectTimeout: 60_000 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const stream = `bench${c.siteId.replace(/[^A-Za-z0-9]/g, '')}`.slice(0, 60);
  const topic = upTopic(c.siteId, 'status');
  const first = job.firstSeq ?? 1;
  // Checked once against the shared schema; per message only JSON.stringify, the same for both brokers.
  encodeUp(sample(c.siteId, stream, first));
  const last = first + job.messagesPerClient - 1;
  const base = index * job.messagesPerClient - first;
  const outstanding = new Set<number>();
  let next = first;
  let confirmed = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const confirm = (seq: number) => {
    if (!outstanding.delete(seq)) return;
    sh.latencies.push(wall() - sh.sentAt[base + seq]!);
    confirmed++;
    sh.counts.confirmed++;
    if (confirmed === job.messagesPerClient) done();
  };
  const pump = () => {
    while (outstanding.size < job.window && next <= last) {
      const seq = next++;
      outstanding.add(seq);
      const payload = Buffer.from(JSON.stringify(sample(c.siteId, stream, seq)));
      sh.sentAt[base + seq] = wall();
      client.publish(topic, payload, { qos: 1 }, (err) => {
        if (!err && job.mode === 'puback') {
          confirm(seq);
          pump();
        }
      });
    }
  };
  if (job.mode === 'app-ack') {
    client.on('message', (_topic, payload) => {
      const m = JSON.parse(payload.toString('utf8')) as { type?: string; stream?: string; acked?: Array<[number, number]>; rejected?: unknown[] };
      if (m.type !== 'ack' || m.stream !== stream) return;
      for (const [from, to] of m.acked ?? []) for (let s = from; s <= to; s++) confirm(s);
      sh.counts.rejected += m.rejected?.length ?? 0;
      pump();
    });
    await client.subscribeAsync(downTopic(c.siteId, 'ack'), { qos: 1 });
  }
  return { client, finished, pump };
}

process.on('message', (msg: ParentMessage) => {
  if (msg.kind !== 'job') return;
  void (async () => {
    const job: LoadJob = msg;
    const sh: Shared = { job, latencies: [], sentAt: new Array<number>(job.clients.length * job.messagesPerClient).fill(0), counts: { confirmed: 0, rejected: 0 } };
    const handles = await Promise.all(job.clients.map((c, i) => connectClient(sh, i, c)));
    await new Promise<void>((resolve) => {
      const onGo = (m: ParentMessage) => {
        if (m.kind === 'go') {
          process.off('message', onGo);
          resolve();
        }
      };
      process.on('message', onGo);
      process.send!({ kind: 'connected' } satisfies ChildMessage);
    });
    const cpu0 = process.cpuUsage();
    const startedAt = wall();
    const t0 = performance.now();
    for (const h of handles) h.pump();
    await Promise.all(handles.map((h) => h.finished));
    const elapsedMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await Promise.all(handles.map((h) => h.client.endAsync()));
    const report: ChildMessage = {
      kind: 'report', connected: handles.length, confirmed: sh.counts.confirmed, rejected: sh.counts.rejected, startedAt, elapsedMs,
      latenciesMs: sh.latencies, sentAt: sh.sentAt, cpuMs: (cpu.user + cpu.system) / 1000,
    };
    process.send!(report, () => process.exit(0));
  })().catch((err) => {
    process.stderr.write(`load generator: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
});
