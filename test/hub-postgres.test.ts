/**
 * Two hub instances on one PostgreSQL database behind a real Mosquitto (issue 20): each subscribes
 * with the MQTT 5 shared subscription $share/hubs/…, so each message is ingested by one of them.
 * Real agents enrol through instance A and send; instance B is SIGKILLed and restarted three times
 * while they do. At the end every message each agent queued is stored exactly once (0 lost, 0
 * duplicated per site: seqs 1..max stored once each, or still in the agent's outbox), both
 * instances stored some, and the site list served by A stayed live throughout, read from the
 * shared store. SENTINELA_PG_AGENTS sets how many agents (4 by default: this runs in CI on a small
 * machine; the full 200 is for a bigger one).
 */
import t from 'tap';
import { join } from 'node:path';
import pg from 'pg';
import { AgentHandle, HubHandle } from '@sentinela/tools/harness/fleet.js';
import { DynsecMosquitto } from '@sentinela/tools/harness/mosquitto.js';
import { agentOutbox } from '@sentinela/tools/harness/stores.js';
import { tempDir, uniqueSiteId } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';

const AGENTS = Number(process.env.SENTINELA_PG_AGENTS ?? 4);
const ADMIN_URL = process.env.SENTINELA_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function rows<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

async function received(hub: HubHandle): Promise<number> {
  const text = await (await fetch(`${hub.httpUrl}/metrics`)).text();
  return [...text.matchAll(/^sentinela_hub_messages_received_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
}

t.test(`two hub instances on PostgreSQL behind Mosquitto, ${AGENTS} agents, one instance SIGKILLed 3 times: each message stored once`, async (t) => {
  const dir = tempDir('hub-pg');
  t.teardown(dir.remove);
  const dbName = `sn_twohubs_${process.pid}_${Date.now() % 100000}`;
  await admin(`CREATE DATABASE ${dbName}`);
  t.teardown(() => admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const dbUrl = url.toString();

  const broker = await new DynsecMosquitto(dir.path).start();
  t.teardown(() => broker.stop());
  const hub = (name: string) =>
    new HubHandle({
      dir: join(dir.path, name),
      hubId: name,
      readyTimeoutMs: 120_000,
      echo: process.env.ECHO ? (l) => console.error(`[${name}] ${l}`) : undefined,
      overrides: {
        store: { kind: 'postgres', url: dbUrl, commitIntervalMs: 50 },
        externalBroker: {
          url: broker.url,
          username: broker.admin.username,
          password: broker.admin.password,
          clientId: `ingest-${name}`,
          provision: 'mosquitto-dynsec',
          shareGroup: 'hubs',
          sweepSeconds: 5,
        },
      },
    });
  const a = await hub('hub-a').start();
  t.teardown(() => a.proc.stop());
  const b = await hub('hub-b').start();
  t.teardown(() => b.proc.stop());

  const agents: AgentHandle[] = [];
  for (let i = 0; i < AGENTS; i++) {
    const siteId = uniqueSiteId(`pg${i}`);
    const agent = new AgentHandle({
      dir: join(dir.path, 'agents', siteId),
      siteId,
      mqttUrl: broker.url,
      overrides: { sampling: { intervalSeconds: 1 }, outbox: { drainPerSecond: 200, resendAfterSeconds: 5 } },
      readyTimeoutMs: 120_000,
    });
    await agent.enroll(a.httpUrl, await a.addSite(siteId));
    agents.push(agent);
  }
  for (const agent of agents) t.teardown(() => agent.proc?.stop());
  await Promise.all(agents.map((agent) => agent.start()));
  const siteIds = agents.map((x) => x.opts.siteId);
  const stored = async () =>
    new Map((await rows<{ site_id: string; n: number }>(dbUrl, 'SELECT site_id, count(*)::int AS n FROM messages GROUP BY site_id')).map((r) => [r.site_id, r.n]));
  const everySiteHas = async (n: number) => {
    const m = await stored();
    return siteIds.every((s) => (m.get(s) ?? 0) >= n);
  };
  await waitFor('every site has 3 messages stored', () => everySiteHas(3), 60_000);

  // The console's site list, from A, all along: it reads the shared store.
  const token = await a.addApiToken('watch');
  const lists: number[] = [];
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const r = await a.api<{ total: number }>('/api/v1/sites', token);
      lists.push(r.total);
      await new Promise((r) => setTimeout(r, 300));
    }
  })();

  for (let round = 1; round <= 3; round++) {
    await waitFor(`instance B ingests (round ${round})`, async () => (await received(b)) > 0, 60_000);
    await b.proc.kill();
    const before = await stored();
    await waitFor(`A alone stores more from every site (round ${round})`, async () => {
      const m = await stored();
      return siteIds.every((s) => (m.get(s) ?? 0) >= (before.get(s) ?? 0) + 2);
    }, 60_000);
    await b.start();
  }
  await waitFor('instance B ingests after its last restart', async () => (await received(b)) > 0, 60_000);
  t.ok((await received(a)) > 0, 'instance A stored messages too');

  // Drain: every agent's outbox empty, then stop them (a sample taken meanwhile stays in its outbox).
  await waitFor('every outbox drained', () => agents.every((x) => agentOutbox(join(x.opts.dir, 'data')).pending.length === 0), 90_000);
  for (const agent of agents) await agent.proc.stop();
  watching = false;
  await watch;
  t.ok(lists.length > 0 && lists.every((n) => n === AGENTS), `the site list from instance A answered ${lists.length} times during the kills, every time with the ${AGENTS} sites`);

  for (const agent of agents) {
    const site = agent.opts.siteId;
    const outbox = agentOutbox(join(agent.opts.dir, 'data'));
    const got = await rows<{ seq: number; n: number }>(dbUrl, 'SELECT seq::int AS seq, count(*)::int AS n FROM messages WHERE site_id = $1 AND stream = $2 GROUP BY seq ORDER BY seq', [site, outbox.stream]);
    const dup = got.filter((r) => r.n > 1).map((r) => r.seq);
    const have = new Set([...got.map((r) => r.seq), ...outbox.pending]);
    const lost: number[] = [];
    for (let s = 1; s <= outbox.maxSeq; s++) if (!have.has(s)) lost.push(s);
    t.same({ site, lost, dup }, { site, lost: [], dup: [] }, `${site}: seqs 1..${outbox.maxSeq}, ${got.length} stored, ${outbox.pending.length} still queued; 0 lost, 0 duplicated`);
    const [streamRow] = await rows<{ received_count: number; max_seq: number }>(dbUrl, 'SELECT received_count::int, max_seq::int FROM streams WHERE site_id = $1 AND stream = $2', [site, outbox.stream]);
    t.equal(streamRow?.received_count, got.length, `${site}: the stream's count is the rows stored (no double count across instances)`);
  }
});
