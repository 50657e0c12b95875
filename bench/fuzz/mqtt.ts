/**
 * Target (a): MQTT packets at a real hub process's listener, before CONNECT and after the CONNACK
 * of an enrolled site. Each input is a fresh connection: optionally a valid CONNECT, then one to
 * three packets (most of them mutated valid packets: CONNECT, PUBLISH at each QoS with real
 * payloads, SUBSCRIBE, UNSUBSCRIBE, the acks, PINGREQ, DISCONNECT, AUTH; MQTT 3.1.1 and 5), sent in
 * one or more writes, then a PINGREQ as a probe (and a FIN when the bytes end inside a packet).
 * The hub must answer the probe or close the connection: a connection still open and silent
 * after the time limit, while the hub serves a fresh one, is a hang; the hub exiting is a crash.
 *
 * Meanwhile a well-behaved site publishes a status every 50 ms at QoS 1 through mqtt.js; its
 * PUBACK latency is reported.
 */
import net from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { downTopic, upTopic } from '@sentinela/shared';
import { provisionSites } from '@sentinela/tools/harness/provision.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { percentile } from '../lib/report.js';
import { FuzzHub } from './hub-process.js';
import { mutateBytes } from './mutate.js';
import { ack, auth, connect, disconnect, encodePacket, framing, mutatePacket, pingreq, publish, subscribe, unsubscribe, type Credentials, type Packet } from './mqtt-packets.js';
import { statusDoc, upSeeds } from './payload-seeds.js';
import { Rng } from './rng.js';
import { campaign, Tally, type Outcome, type TargetReport } from './tally.js';
import type { TargetRun } from './fuzz.bench.js';

const ANSWER_MS = 5000;
const LANES = 8;
/** After this many hub exits the target stops: the report already says what it needs to. */
const MAX_DEATHS = 3;

/** Valid packets for one site: what the mutations start from. */
function seedPackets(c: Credentials): Packet[] {
  const payloads = upSeeds(c.siteId);
  const will = { topic: upTopic(c.siteId, 'death'), payload: payloads.find((p) => p.topic.endsWith('/death'))!.bytes };
  return [
    connect(c, 4),
    connect(c, 5),
    connect(c, 4, { will }),
    connect(c, 5, { will, keepalive: 0 }),
    ...payloads.flatMap((p, i) => [publish(p.topic, p.bytes, 1, i + 1), publish(p.topic, p.bytes, 0, 0), publish(p.topic, p.bytes, 2, i + 9), publish(p.topic, p.bytes, 1, i + 17, 5)]),
    publish(`sentinela/v1/site/${c.siteId}/up/sync/offer`, payloads[0]!.bytes, 1, 40),
    subscribe(downTopic(c.siteId, 'ack'), 41),
    subscribe(downTopic(c.siteId, 'ack'), 42, 5),
    unsubscribe(downTopic(c.siteId, 'ack'), 43),
    ack(4, 1),
    ack(5, 2),
    ack(6, 3),
    ack(7, 4),
    pingreq(),
    disconnect(4),
    disconnect(5),
    auth(),
  ];
}

interface Plan {
  /** A valid CONNECT first (after CONNACK) or the mutated bytes as the connection's first. */
  mode: 'pre-connect' | 'post-connack';
  chunks: Buffer[];
  complete: boolean;
}

function planInput(rng: Rng, seeds: Packet[], valid: Buffer): Plan {
  const mode = rng.chance(0.3) ? 'pre-connect' : 'post-connack';
  const packets: Buffer[] = [];
  const count = mode === 'pre-connect' ? rng.between(1, 2) : rng.between(1, 3);
  for (let k = 0; k < count; k++) {
    // Before CONNECT, mostly CONNECTs: the hub's first parser is the one that reads them.
    const seed = mode === 'pre-connect' && k === 0 && rng.chance(0.7) ? seeds[rng.below(4)]! : rng.pick(seeds);
    let bytes = rng.chance(0.85) ? encodePacket(mutatePacket(rng, seed)) : encodePacket(seed);
    if (rng.chance(0.15)) bytes = mutateBytes(rng, bytes, valid);
    packets.push(bytes);
  }
  const all = Buffer.concat(packets);
  // Split into writes at random points: the framer must carry a header or body across reads.
  const chunks: Buffer[] = [];
  let at = 0;
  for (let w = rng.chance(0.3) ? rng.between(2, 4) : 1; w > 1 && at < all.length; w--) {
    const cut = at + 1 + rng.below(Math.max(1, all.length - at));
    chunks.push(all.subarray(at, cut));
    at = cut;
  }
  if (at < all.length || chunks.length === 0) chunks.push(all.subarray(at));
  return { mode, chunks, complete: framing(all).complete };
}

/** Packets in what the hub sent: their first bytes (and a CONNACK's return code). */
function replies(bytes: Buffer): Array<{ first: number; body: Buffer }> {
  const out: Array<{ first: number; body: Buffer }> = [];
  let i = 0;
  while (i < bytes.length) {
    const first = bytes[i++]!;
    let len = 0;
    let mul = 1;
    for (;;) {
      if (i >= bytes.length) return out;
      const b = bytes[i++]!;
      len += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) break;
    }
    if (i + len > bytes.length) return out;
    out.push({ first, body: bytes.subarray(i, i + len) });
    i += len;
  }
  return out;
}

type SessionEnd = { how: 'closed' | 'answered' | 'timeout'; received: Buffer; connackFailed?: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One connection: the preface (a valid CONNECT) when asked, the chunks, the probe; how it ended. */
async function session(port: number, preface: Buffer | null, plan: Plan): Promise<SessionEnd> {
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  let received = Buffer.alloc(0);
  let closed = false;
  let wake: () => void = () => undefined;
  sock.on('data', (d: Buffer) => {
    received = Buffer.concat([received, d]);
    wake();
  });
  sock.on('error', () => undefined);
  sock.on('close', () => {
    closed = true;
    wake();
  });
  const until = async (done: () => boolean, ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (!done() && !closed && Date.now() < deadline) {
      await Promise.race([new Promise<void>((r) => (wake = r)), sleep(Math.max(1, deadline - Date.now()))]);
    }
    return done();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    let mark = 0;
    if (preface) {
      sock.write(preface);
      const got = await until(() => replies(received).length > 0, ANSWER_MS);
      const connack = replies(received)[0];
      if (!got || !connack || connack.first !== 0x20) return { how: 'timeout', received, connackFailed: got ? `CONNACK ${received.toString('hex')}` : closed ? 'closed before CONNACK' : 'no CONNACK' };
      // A login refused with a clear answer (CONNACK 3 while the lane's site sits out a noisy-site
      // cool-down): a refusal, not a silent hub.
      if (connack.body[1] !== 0) return { how: 'closed', received };
      mark = received.length;
    }
    for (const [k, chunk] of plan.chunks.entries()) {
      if (closed) break;
      sock.write(chunk);
      if (k < plan.chunks.length - 1) await sleep(1);
    }
    if (!closed) {
      sock.write(encodePacket(pingreq()));
      if (!plan.complete) sock.end();
    }
    const answered = await until(() => replies(received.subarray(mark)).some((p) => p.first === 0xd0), ANSWER_MS);
    return { how: answered ? 'answered' : closed ? 'closed' : 'timeout', received: received.subarray(mark) };
  } catch {
    return { how: 'closed', received };
  } finally {
    sock.destroy();
  }
}

/** Whether a fresh, valid connection (of a site that sends nothing wrong) gets its CONNACK: the hub is otherwise healthy. */
async function healthy(port: number, c: Credentials): Promise<boolean> {
  const end = await session(port, encodePacket(connect(c, 4)), { mode: 'post-connack', chunks: [], complete: true });
  return end.how === 'answered';
}

function classify(end: SessionEnd): Outcome {
  const rs = replies(end.received);
  const connack = rs.find((p) => p.first === 0x20);
  const refusedConnack = connack && connack.body[1] !== 0 ? `CONNACK ${connack.body[1]}` : null;
  if (end.how === 'answered') {
    if (rs.some((p) => p.first === 0x90 && p.body.subarray(2).includes(0x80))) return { kind: 'refused', why: 'SUBACK refused' };
    return { kind: 'accepted' };
  }
  return { kind: 'refused', why: refusedConnack ?? (rs.length ? 'closed after answering' : 'closed') };
}

/** The well-behaved site: a status every 50 ms, QoS 1; PUBACK latencies. */
async function steadySite(url: string, c: Credentials): Promise<{ stop: () => Promise<{ latencies: number[]; failures: number; disconnects: number }> }> {
  const client = await mqtt.connectAsync(url, { clientId: c.siteId, username: c.siteId, password: c.password, keepalive: 30, reconnectPeriod: 500, connectTimeout: 10_000 });
  const latencies: number[] = [];
  let failures = 0;
  let disconnects = 0;
  const onClose = () => disconnects++;
  client.on('close', onClose);
  let seq = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const doc = { ...statusDoc(c.siteId, ++seq), ts: new Date().toISOString() };
      const t0 = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no PUBACK in 30 s')), 30_000)));
        await Promise.race([client.publishAsync(upTopic(c.siteId, 'status'), JSON.stringify(doc), { qos: 1 }), late]);
        latencies.push(performance.now() - t0);
      } catch {
        if (running) failures++;
      } finally {
        clearTimeout(timer);
      }
      await sleep(50);
    }
  })();
  return {
    stop: async () => {
      running = false;
      client.off('close', onClose);
      await client.endAsync(true);
      await loop;
      return { latencies, failures, disconnects };
    },
  };
}

export async function fuzzMqtt(opts: TargetRun): Promise<TargetReport> {
  const tally = new Tally('mqtt', opts.seed, opts.failureFile);
  const dir = tempDir('sentinela-fuzz-mqtt-');
  const t0 = Date.now();
  const fh = await new FuzzHub(join(dir.path, 'hub')).start();
  try {
    // One site per lane, the steady site, and one for health checks: a lane's own site may be in a
    // noisy-site cool-down (its logins refused for a minute or more), which says nothing of the hub.
    const creds = await provisionSites(fh.dataDir, fh.hub.httpUrl, LANES + 2, 'fz');
    const healthCreds = creds[LANES + 1]!;
    opts.log(`fuzz mqtt: hub started and ${LANES + 2} sites enrolled in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const steadyCreds = creds[LANES]!;
    const laneSeeds = creds.slice(0, LANES).map((c) => ({ c, seeds: seedPackets(c), valid: encodePacket(connect(c, 4)) }));
    const refused0 = await fh.refusedByReason();
    const steady = await steadySite(fh.hub.mqttUrl, steadyCreds);
    const inFlight = new Map<number, string>();
    let stopped = false;
    /** The last inputs that ended: a hub's exit may be seen only after the input that caused it ended. */
    const recent: string[] = [];
    let lane = 0;
    await campaign(
      opts.inputs,
      LANES,
      async (index) => {
        await fh.ready();
        const mine = laneSeeds[lane++ % LANES]!;
        const rng = Rng.forInput(opts.seed, 'mqtt', index);
        const plan = planInput(rng, mine.seeds, mine.valid);
        const record = `${plan.mode} site=${mine.c.siteId} chunks=${plan.chunks.map((c) => c.toString('hex')).join(',')}`;
        const deaths = fh.deaths;
        const proc = fh.hub.proc;
        inFlight.set(index, record);
        const end = await session(fh.hub.mqttPort, plan.mode === 'post-connack' ? mine.valid : null, plan);
        // Silent, and a fresh connection is not answered either: a hub on its way out takes a moment to exit.
        const unhealthy = end.how === 'timeout' && proc === fh.hub.proc && !(await healthy(fh.hub.mqttPort, healthCreds));
        if (unhealthy) await Promise.race([proc.exited, sleep(15_000)]);
        if (fh.deaths !== deaths || !proc.running) {
          await proc.exited;
          const suspects = [...new Set([...recent, ...inFlight.values()])];
          const exit = fh.lastExit;
          inFlight.delete(index);
          // The lane that restarts the hub counts the crash, with every input that was in flight.
          if (fh.deaths > MAX_DEATHS) {
            if (proc === fh.hub.proc && fh.deaths === MAX_DEATHS + 1 && !stopped) {
              stopped = true;
              tally.add(index, { kind: 'crash', detail: `${exit}\n(${suspects.length} inputs were in flight; all are in the failure file)` }, suspects.join('\n'));
            }
            return;
          }
          if (await fh.restartAfter(proc)) tally.add(index, { kind: 'crash', detail: `${exit}\n(${suspects.length} inputs were in flight; all are in the failure file)` }, suspects.join('\n'));
          return;
        }
        inFlight.delete(index);
        recent.push(record);
        if (recent.length > 2 * LANES) recent.shift();
        // An input that met a hub dying or starting again is not counted: it tested nothing.
        if (proc !== fh.hub.proc || fh.deaths !== deaths) return;
        if (end.how === 'timeout') {
          tally.add(index, !unhealthy ? { kind: 'hang', detail: end.connackFailed ?? `connection open and silent for ${ANSWER_MS} ms (received ${end.received.toString('hex')})` } : { kind: 'crash', detail: 'the hub stopped answering new connections and did not exit' }, record);
          return;
        }
        tally.add(index, classify(end), record);
        if (index % 1000 === 999) opts.log(`fuzz mqtt: ${index + 1} inputs…`);
      },
      () => fh.deaths > MAX_DEATHS,
    );
    const s = await steady.stop();
    const sorted = s.latencies.sort((a, b) => a - b);
    const r1 = (v: number) => Math.round(v * 10) / 10;
    const refused1 = await fh.refusedByReason();
    tally.report.extra = {
      'other site acks': sorted.length,
      'other site ack p50 ms': r1(percentile(sorted, 50)),
      'other site ack p99 ms': r1(percentile(sorted, 99)),
      'other site ack max ms': r1(sorted[sorted.length - 1] ?? 0),
      'other site failed publishes': s.failures,
      'other site disconnects': s.disconnects,
      ...Object.fromEntries(Object.entries(refused1).map(([k, v]) => [`hub refused (${k})`, v - (refused0[k] ?? 0)]).filter(([, v]) => (v as number) > 0)),
    };
    return tally.finish();
  } finally {
    const t1 = Date.now();
    await fh.stop();
    opts.log(`fuzz mqtt: hub stopped in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    dir.remove();
  }
}
