/**
 * Hub ingest under many agents: N MQTT connections publishing QoS 1 status messages, each message
 * validated, committed to SQLite and acked by the hub before the client counts it.
 *
 * The peer, in the same run: the same load (same generator, same payloads, same window) through a
 * Mosquitto started for the run, to a counting subscriber at QoS 1 in a process of its own. Mosquitto
 * is measured twice: at the publisher's PUBACK (Mosquitto took the message; nothing persisted) and at
 * the subscriber (the message reached its consumer), which is what the hub's ack means for the hub
 * (the message reached its store). CPU time of every process is measured over the load phase, so a
 * reader can see which process was the limit on this machine.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import pg from 'pg';
import { HubHandle } from '@sentinela/tools/harness/fleet.js';
import { DynsecMosquitto } from '@sentinela/tools/harness/mosquitto.js';
import { provisionSites } from '@sentinela/tools/harness/provision.js';
import { hubMessageCount } from '@sentinela/tools/harness/stores.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { median, percentile, ratiosOf, type BenchResult } from '../lib/report.js';
import { cpuMsOf, startMosquitto } from '../lib/procs.js';
import type { ChildMessage, LoadJob, LoadReport, ParentMessage } from './load-generator.js';
import type { SubscriberJob, SubscriberReport } from './subscriber.js';

const GENERATOR = fileURLToPath(new URL('./load-generator.js', import.meta.url));
const SUBSCRIBER = fileURLToPath(new URL('./subscriber.js', import.meta.url));

function exitWatch(child: ChildProcess, what: string, reject: (e: Error) => void): void {
  child.once('error', reject);
  child.once('exit', (code) => code !== 0 && reject(new Error(`${what} exited with ${code}`)));
}

/** Runs the generator; `onConnected` runs once every client is connected, before publishing starts. */
function runLoad(job: LoadJob, onConnected: () => void): Promise<LoadReport> {
  return new Promise((resolve, reject) => {
    const child = fork(GENERATOR, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (m: ChildMessage) => {
      if (m.kind === 'connected') {
        onConnected();
        child.send({ kind: 'go' } satisfies ParentMessage);
      } else if (m.kind === 'report') resolve(m);
    });
    exitWatch(child, 'load generator', reject);
    child.send({ kind: 'job', ...job } satisfies ParentMessage);
  });
}

function startSubscriber(job: Omit<SubscriberJob, 'kind'>): Promise<{ finish: (timeoutMs: number) => Promise<SubscriberReport> }> {
  return new Promise((resolve, reject) => {
    const child = fork(SUBSCRIBER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    exitWatch(child, 'subscriber', reject);
    let reported: (r: SubscriberReport) => void;
    const report = new Promise<SubscriberReport>((r) => (reported = r));
    child.on('message', (m: { kind: string }) => {
      if (m.kind === 'subscribed') {
        resolve({
          finish: (timeoutMs) => {
            child.send({ kind: 'finish', timeoutMs });
            return report;
          },
        });
      } else if (m.kind === 'report') reported(m as SubscriberReport);
    });
    child.send({ kind: 'start', ...job } satisfies SubscriberJob);
  });
}

const round1 = (v: number) => Math.round(v * 10) / 10;

function latencyFigures(prefix: string, latencies: number[]): Record<string, number> {
  const sorted = Float64Array.from(latencies).sort();
  return {
    [`${prefix} p50 ms (lower is better)`]: round1(percentile(sorted as unknown as number[], 50)),
    [`${prefix} p99 ms (lower is better)`]: round1(percentile(sorted as unknown as number[], 99)),
  };
}

/** The hub's own commit figures (sums and counts of its Prometheus histograms), read over HTTP. */
async function commitTotals(httpUrl: string): Promise<{ batches: number; messages: number; commitSec: number; acks: number } | undefined> {
  try {
    const text = await (await fetch(`${httpUrl}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const t = { batches: value('sentinela_hub_commit_batch_size_count'), messages: value('sentinela_hub_commit_batch_size_sum'), commitSec: value('sentinela_hub_commit_duration_seconds_sum'), acks: value('sentinela_hub_acks_sent_total') };
    return Object.values(t).every(Number.isFinite) ? t : undefined;
  } catch {
    return undefined;
  }
}

const perK = (cpuMs: number | undefined, messages: number) => (cpuMs === undefined || messages === 0 ? undefined : round1((cpuMs / messages) * 1000));

function defined(o: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, number] => e[1] !== undefined));
}

/** One round against the running hub: the load, the rows it added, its figures. */
async function hubRound(hub: HubHandle, creds: Array<{ siteId: string; password: string }>, perClient: number, window: number, round: number): Promise<Record<string, number>> {
  const total = creds.length * perClient;
  const hubPid = hub.proc.child.pid;
  let hubCpu0: number | undefined;
  let commits0: Promise<Awaited<ReturnType<typeof commitTotals>>> = Promise.resolve(undefined);
  // Profiling aid: with BENCH_PROFILE_SIGNAL set, the hub gets SIGUSR2 when publishing starts and
  // when it ends (a preload script of one's own, in NODE_OPTIONS=--import, can start/stop a profile).
  const mark = () => process.env.BENCH_PROFILE_SIGNAL && hub.proc.child.kill('SIGUSR2');
  const load = { url: hub.mqttUrl, clients: creds, messagesPerClient: perClient, firstSeq: round * perClient + 1, window, mode: 'app-ack' as const };
  const ours = await runLoad(load, () => {
    hubCpu0 = cpuMsOf(hubPid);
    commits0 = commitTotals(hub.httpUrl);
    mark();
  });
  const hubCpu1 = cpuMsOf(hubPid);
  mark();
  const [c0, c1] = [await commits0, await commitTotals(hub.httpUrl)];
  const commits = c0 && c1 && c1.batches > c0.batches ? { batches: c1.batches - c0.batches, messages: c1.messages - c0.messages, commitSec: c1.commitSec - c0.commitSec, acks: c1.acks - c0.acks } : undefined;
  // Every round adds its messages to the same database: later rounds insert into a store that already holds the earlier ones.
  const stored = hubMessageCount(join(hub.opts.dir, 'data')) - round * total;
  if (stored !== total) throw new Error(`round ${round + 1}: the hub stored ${stored} messages, expected ${total}`);
  if (ours.rejected) throw new Error(`round ${round + 1}: the hub rejected ${ours.rejected} messages of the benchmark`);
  const hubCpu = hubCpu0 !== undefined && hubCpu1 !== undefined ? hubCpu1 - hubCpu0 : undefined;
  const rate = Math.round(ours.confirmed / (ours.elapsedMs / 1000));
  return defined({
    connections: ours.connected,
    'confirmed msgs/s': rate,
    ...latencyFigures('confirm', ours.latenciesMs),
    delivered: stored,
    'delivered msgs/s': rate,
    ...latencyFigures('delivery', ours.latenciesMs),
    'broker CPU ms/1k msgs (lower is better)': perK(hubCpu, total),
    'broker CPU % of one core': hubCpu === undefined ? undefined : Math.round((hubCpu / ours.elapsedMs) * 100),
    'generator CPU ms/1k msgs (lower is better)': perK(ours.cpuMs, total),
    // In-process: the hub's SQLite transactions (inserts and commit), from its own metrics.
    'hub commit ms/1k msgs (lower is better)': commits ? perK(commits.commitSec * 1000, commits.messages) : undefined,
    'hub mean batch (msgs per commit)': commits ? Math.round(commits.messages / commits.batches) : undefined,
    'hub acks per 1k msgs (lower is better)': commits ? Math.round((commits.acks / commits.messages) * 1000) : undefined,
  });
}

/** One round through a Mosquitto started for it, to a counting subscriber. */
async function mosquittoRound(dir: string, clients: number, perClient: number, window: number, log: (line: string) => void): Promise<{ figures: Record<string, number>; about: string; missing: number; duplicates: number }> {
  const total = clients * perClient;
  const mosq = await startMosquitto(dir, total + 1000);
  try {
    log(`ingest: the same load through ${mosq.about}, to a counting subscriber (QoS 1, own process)…`);
    const prefix = `bench-${process.pid}-${Date.now().toString(36)}-`;
    const sub = await startSubscriber({ url: mosq.url, filter: 'sentinela/v1/site/+/up/status', prefix, clients, messagesPerClient: perClient });
    const peerClients = Array.from({ length: clients }, (_, i) => ({ siteId: `${prefix}${i}`, password: 'unused' }));
    let mosqCpu0: number | undefined;
    const peer = await runLoad({ url: mosq.url, clients: peerClients, messagesPerClient: perClient, window, mode: 'puback' }, () => {
      mosqCpu0 = cpuMsOf(mosq.pid);
    });
    const got = await sub.finish(30_000);
    const mosqCpu1 = cpuMsOf(mosq.pid);
    const e2e: number[] = [];
    for (let i = 0; i < total; i++) if (got.receivedAt[i]) e2e.push(got.receivedAt[i]! - peer.sentAt[i]!);
    const mosqCpu = mosqCpu0 !== undefined && mosqCpu1 !== undefined ? mosqCpu1 - mosqCpu0 : undefined;
    const figures = defined({
      connections: peer.connected,
      'confirmed msgs/s': Math.round(peer.confirmed / (peer.elapsedMs / 1000)),
      ...latencyFigures('confirm', peer.latenciesMs),
      delivered: got.received,
      'delivered msgs/s': got.received ? Math.round(got.received / ((got.lastAt - peer.startedAt) / 1000)) : 0,
      ...latencyFigures('delivery', e2e),
      'broker CPU ms/1k msgs (lower is better)': perK(mosqCpu, total),
      'broker CPU % of one core': mosqCpu === undefined ? undefined : Math.round((mosqCpu / (got.lastAt - peer.startedAt)) * 100),
      'generator CPU ms/1k msgs (lower is better)': perK(peer.cpuMs, total),
      'subscriber CPU ms/1k msgs (lower is better)': perK(got.cpuMs, total),
    });
    return { figures, about: mosq.about, missing: total - got.received, duplicates: got.duplicates };
  } finally {
    await mosq.stop();
  }
}

const PG_ADMIN_URL = process.env.SENTINELA_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function pgQuery<T>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

/**
 * The hub on PostgreSQL (issue 20): `instances` hub processes on one database, behind a Mosquitto
 * with dynamic security started for the round (two instances: the MQTT 5 shared subscription), the
 * same load as the SQLite round. Confirmed = the hub that stored the message acked it through
 * Mosquitto. CPU: the hubs' and Mosquitto's processes (PostgreSQL's server processes not counted).
 */
async function postgresRound(dir: string, instances: 1 | 2, clients: number, perClient: number, window: number, log: (line: string) => void): Promise<Record<string, number>> {
  const total = clients * perClient;
  const name = `sn_bench_${process.pid}_${instances}_${Date.now() % 100000}`;
  await pgQuery(PG_ADMIN_URL, `CREATE DATABASE ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const dbUrl = url.toString();
  const brokerDir = join(dir, `mosquitto-pg${instances}`);
  mkdirSync(brokerDir, { recursive: true });
  // The hubs' sessions take every message in flight: lift Mosquitto's per-client queue limits.
  const broker = await new DynsecMosquitto(brokerDir, [`max_queued_messages ${total + 1000}`, 'max_inflight_messages 0']).start();
  const hubs: HubHandle[] = [];
  try {
    for (let i = 0; i < instances; i++) {
      hubs.push(
        await new HubHandle({
          dir: join(dir, `hub-pg${instances}-${i}`),
          hubId: `bench-pg-${i}`,
          readyTimeoutMs: 120_000,
          overrides: {
            store: { kind: 'postgres', url: dbUrl },
            externalBroker: {
              url: broker.url,
              username: broker.admin.username,
              password: broker.admin.password,
              clientId: `bench-hub-${i}`,
              provision: 'mosquitto-dynsec',
              ...(instances > 1 ? { shareGroup: 'bench' } : {}),
            },
          },
        }).start(),
      );
    }
    log(`ingest: ${instances} hub instance${instances > 1 ? 's' : ''} on PostgreSQL behind Mosquitto: provisioning ${clients} sites…`);
    const creds = await provisionSites(join(hubs[0]!.opts.dir, 'data'), hubs[0]!.httpUrl, clients, 'bench', dbUrl);
    const pids = [...hubs.map((h) => h.proc.child.pid), broker.pid];
    let cpu0: Array<number | undefined> = [];
    log(`ingest: ${clients} agents × ${perClient} messages through Mosquitto into ${instances} hub instance${instances > 1 ? 's' : ''} on PostgreSQL…`);
    const load = await runLoad({ url: broker.url, clients: creds, messagesPerClient: perClient, firstSeq: 1, window, mode: 'app-ack' }, () => {
      cpu0 = pids.map((p) => cpuMsOf(p));
    });
    const cpu1 = pids.map((p) => cpuMsOf(p));
    const used = (i: number) => (cpu0[i] !== undefined && cpu1[i] !== undefined ? cpu1[i]! - cpu0[i]! : undefined);
    const hubCpu = hubs.reduce<number | undefined>((a, _, i) => (a === undefined || used(i) === undefined ? undefined : a + used(i)!), 0);
    const [{ n, d }] = await pgQuery<{ n: number; d: number }>(dbUrl, 'SELECT count(*)::int AS n, count(DISTINCT (site_id, seq))::int AS d FROM messages') as [{ n: number; d: number }];
    if (n !== total || d !== total) throw new Error(`postgres ×${instances}: the hubs stored ${n} rows (${d} distinct), expected ${total}`);
    if (load.rejected) throw new Error(`postgres ×${instances}: the hub rejected ${load.rejected} messages of the benchmark`);
    return defined({
      'confirmed msgs/s': Math.round(load.confirmed / (load.elapsedMs / 1000)),
      ...latencyFigures('confirm', load.latenciesMs),
      'hub CPU ms/1k msgs (lower is better)': perK(hubCpu, total),
      'mosquitto CPU ms/1k msgs (lower is better)': perK(used(hubs.length), total),
    });
  } finally {
    for (const h of hubs) await h.proc.stop();
    await broker.stop();
    await pgQuery(PG_ADMIN_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
  }
}

/** Each figure's median over the rounds. */
function medians(rounds: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(rounds[0] ?? {})) out[k] = median(rounds.map((r) => r[k]).filter((x): x is number => x !== undefined));
  return out;
}

/**
 * The national fleet (issue 20): 1,700 sites sampling every 60 s (the agent's default) send about
 * 28 statuses/s; after a day of GovNet down each has 1,440 queued, 2.45 M in all, drained at
 * whatever the hubs sustain (agents send their backlog at outbox.drainPerSecond each, far above).
 */
function nationalProjection(rate: number | undefined): string {
  const sites = 1700;
  const steady = sites / 60;
  const backlog = sites * 1440;
  if (!rate) return `national projection: ${sites} sites × 1 msg/60 s = ${steady.toFixed(0)} msgs/s steady; a day of backlog = ${(backlog / 1e6).toFixed(2)} M messages (no PostgreSQL rate measured)`;
  return `national projection: ${sites} sites × 1 msg/60 s = ${steady.toFixed(0)} msgs/s steady, ${((steady / rate) * 100).toFixed(1)} % of the ${rate} msgs/s two instances on PostgreSQL sustained here; a day of GovNet down = ${(backlog / 1e6).toFixed(2)} M queued messages, drained in about ${Math.ceil(backlog / rate / 60)} min at that rate (on this 2-core machine shared by hubs, Mosquitto, PostgreSQL and the generator)`;
}

export async function run({ full, log }: { full: boolean; log: (line: string) => void }): Promise<BenchResult> {
  const clients = full ? 1000 : 500;
  const perClient = full ? 100 : 40;
  // The machine is shared and noisy: the full size alternates several rounds and reports medians.
  const rounds = full ? 3 : 1;
  const window = 10;
  const total = clients * perClient;
  const dir = tempDir('bench-ingest');
  try {
    // ---- sentinela-hub, the real CLI process, default store settings (synchronous=FULL) ----
    const hub = new HubHandle({ dir: join(dir.path, 'hub'), overrides: { log: { level: 'info' }, ...(process.env.BENCH_HUB_OVERRIDES ? JSON.parse(process.env.BENCH_HUB_OVERRIDES) : {}) }, echo: process.env.BENCH_ECHO ? log : undefined });
    await hub.start();
    log(`ingest: provisioning and enrolling ${clients} sites…`);
    const creds = await provisionSites(join(hub.opts.dir, 'data'), hub.httpUrl, clients, 'bench');

    const ours: Array<Record<string, number>> = [];
    const peers: Array<Awaited<ReturnType<typeof mosquittoRound>>> = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first, so that a drift in the machine's load does not favour one side.
      const hubFirst = r % 2 === 0;
      if (!hubFirst) peers.push(await mosquittoRound(dir.path, clients, perClient, window, log));
      log(`ingest: round ${r + 1} of ${rounds}: ${clients} agents × ${perClient} messages into the hub (persisted, app-level ack)…`);
      ours.push(await hubRound(hub, creds, perClient, window, r));
      if (hubFirst) peers.push(await mosquittoRound(dir.path, clients, perClient, window, log));
    }
    await hub.proc.stop();

    // The hub on PostgreSQL, one instance and two (issue 20): one round each, after the SQLite rounds.
    const pgOne = await postgresRound(dir.path, 1, clients, perClient, window, log);
    const pgTwo = await postgresRound(dir.path, 2, clients, perClient, window, log);
    const prefixed = (p: string, f: Record<string, number>) => Object.fromEntries(Object.entries(f).map(([k, v]) => [`${p}: ${k}`, v]));

    const oursFig = medians(ours);
    const peerFig = medians(peers.map((p) => p.figures));
    const rate = 'confirmed msgs/s';
    const perRound = ours.map((o, i) => `${i + 1}: ${o[rate]}/${peers[i]!.figures[rate]} (${(o[rate]! / peers[i]!.figures[rate]!).toFixed(2)})`).join(', ');
    const missing = peers.reduce((a, p) => a + p.missing, 0);
    const duplicates = peers.reduce((a, p) => a + p.duplicates, 0);
    return {
      name: 'ingest',
      setup: { size: full ? 'full' : 'quick', clients, messagesPerClient: perClient, messages: total, rounds, window, qos: 1, cores: cpus().length },
      figures: { ...oursFig, ...prefixed('postgres ×1', pgOne), ...prefixed('postgres ×2', pgTwo) },
      peer: { name: 'mosquitto', figures: peerFig },
      ratios: ratiosOf(oursFig, peerFig),
      rounds: ours.map((o, i) => ({ figures: o, peer: peers[i]!.figures })),
      notes: [
        `figures: the median of ${rounds} round${rounds > 1 ? 's' : ''} (hub and Mosquitto alternately first); confirmed msgs/s per round, hub/mosquitto (ratio): ${perRound}`,
        'load: one generator process plays every client (mqtt.js), at most `window` unconfirmed messages per client; payloads are the same status JSON (~600 bytes) for both brokers',
        'sentinela "confirmed" = "delivered": the hub validated the message (the shared schema: a test generated from it proves a status valid from its bytes; JSON.parse, a compiled value test and zod for what it does not prove), committed it to SQLite (synchronous=FULL) and its application-level ack reached the publisher; delivered = rows the round added to the hub database (one hub for every round: later rounds insert into a database that holds the earlier ones)',
        `mosquitto "confirmed": the publisher got the PUBACK (nothing persisted); "delivered": the counting subscriber (QoS 1, own process) received it; msgs/s = received / (last arrival - first publish); ${peers[0]!.about}, one per round`,
        `mosquitto subscriber: ${rounds * total - missing} of ${rounds * total} received${duplicates ? `, ${duplicates} duplicates` : ''}${missing ? ' (within 30 s after the last PUBACK)' : ''}`,
        'hub commit ms/1k msgs, mean batch and acks: from the hub\'s own metrics (sentinela_hub_commit_duration_seconds, sentinela_hub_commit_batch_size, sentinela_hub_acks_sent_total) over the publishing phase: the SQLite transactions, inserts and commit, on the hub\'s main thread',
        'CPU: user+system time over the publishing phase (hub process / mosquitto process from /proc, generator and subscriber from process.cpuUsage); the hub does its consumer work in-process',
        'postgres ×1 / ×2: the same load through a Mosquitto with dynamic security (started for the round) into one hub instance, or two sharing the load by the MQTT 5 shared subscription $share/bench/…, all storing into one PostgreSQL database on this machine (the server\'s own CPU is not counted; with two instances their batches that share sites commit one after the other); every message stored once (count = distinct keys = messages sent), checked',
        nationalProjection(pgTwo['confirmed msgs/s']),
      ],
    };
  } finally {
    dir.remove();
  }
}
