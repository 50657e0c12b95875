/**
 * The peer's consumer, in a process of its own: one MQTT connection subscribed at QoS 1 to every
 * site's status topic, recording when each message arrived. It does the least a consumer can do
 * (reads the seq with a regular expression) so that it is not what limits the broker.
 *
 * IPC: parent sends {kind: 'start', url, filter, prefix, clients, messagesPerClient}; the child
 * answers {kind: 'subscribed'}; later the parent sends {kind: 'finish', timeoutMs} and the child
 * answers with a SubscriberReport as soon as it has every message or the timeout passed.
 */
import mqtt from 'mqtt';

export interface SubscriberJob {
  kind: 'start';
  url: string;
  filter: string;
  /** Site ids are `${prefix}${index}`. */
  prefix: string;
  clients: number;
  messagesPerClient: number;
}

export interface SubscriberReport {
  kind: 'report';
  received: number;
  duplicates: number;
  /** Wall clock (ms) of each arrival, index = client * messagesPerClient + seq - 1 (0 = never). */
  receivedAt: number[];
  lastAt: number;
  /** This process's CPU time while subscribed, ms. */
  cpuMs: number;
}

const wall = () => performance.timeOrigin + performance.now();
const SEQ = /"seq":(\d+)/;

process.on('message', (msg: SubscriberJob | { kind: 'finish'; timeoutMs: number }) => {
  if (msg.kind !== 'start') return;
  const job = msg;
  const total = job.clients * job.messagesPerClient;
  const receivedAt = new Array<number>(total).fill(0);
  let received = 0;
  let duplicates = 0;
  let lastAt = 0;
  let complete: () => void = () => undefined;
  const sub = mqtt.connect(job.url, { clientId: `${job.prefix}counter`, clean: true, reconnectPeriod: 0 });
  sub.on('message', (topic, payload) => {
    // sentinela/v1/site/{prefix}{index}/up/status
    const at = wall();
    const start = topic.indexOf(job.prefix);
    if (start < 0) return;
    const index = Number(topic.slice(start + job.prefix.length, topic.indexOf('/', start)));
    const seq = Number(SEQ.exec(payload.toString('latin1'))?.[1]);
    const i = index * job.messagesPerClient + seq - 1;
    if (!(i >= 0 && i < total)) return;
    if (receivedAt[i]) {
      duplicates++;
      return;
    }
    receivedAt[i] = at;
    lastAt = at;
    if (++received === total) complete();
  });
  sub.on('error', (err) => {
    process.stderr.write(`subscriber: ${err.message}\n`);
    process.exit(1);
  });
  let cpu0: NodeJS.CpuUsage;
  sub.once('connect', () => {
    void sub.subscribeAsync(job.filter, { qos: 1 }).then(() => {
      cpu0 = process.cpuUsage();
      process.send!({ kind: 'subscribed' });
    });
  });
  process.on('message', (m: { kind: string; timeoutMs?: number }) => {
    if (m.kind !== 'finish') return;
    void (async () => {
      if (received < total) {
        await new Promise<void>((resolve) => {
          complete = resolve;
          setTimeout(resolve, m.timeoutMs ?? 30_000);
        });
      }
      const cpu = process.cpuUsage(cpu0);
      const report: SubscriberReport = { kind: 'report', received, duplicates, receivedAt, lastAt, cpuMs: (cpu.user + cpu.system) / 1000 };
      await sub.endAsync();
      process.send!(report, () => process.exit(0));
    })();
  });
});
