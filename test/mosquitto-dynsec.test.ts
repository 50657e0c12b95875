/**
 * The hub provisions a real Mosquitto 2 through its dynamic-security plugin (issue 20): enrolment
 * creates the site's client and role, the site may use only its own topics, revocation removes
 * it, and an enrolment the broker could not take is undone so that the token still works.
 */
import t from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { upTopic, siteDownFilter } from '@sentinela/shared';
import { AgentHandle, HubHandle } from '@sentinela/tools/harness/fleet.js';
import { DynsecMosquitto } from '@sentinela/tools/harness/mosquitto.js';
import { hubMessages } from '@sentinela/tools/harness/stores.js';
import { tempDir, uniqueSiteId } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';

interface Creds {
  siteId: string;
  username: string;
  password: string;
}

async function enrollOverHttp(hub: HubHandle, token: string): Promise<{ status: number; body: Creds & { error?: string } }> {
  const res = await fetch(`${hub.httpUrl}/api/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  return { status: res.status, body: (await res.json()) as Creds & { error?: string } };
}

/** Connects with MQTT 5 so that refusals come back as reason codes; resolves with the CONNACK's code or the client. */
async function connect(url: string, username: string, password: string, clientId = username): Promise<{ client: mqtt.MqttClient | null; reason: number }> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { clientId, username, password, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000 });
    client.once('connect', () => resolve({ client, reason: 0 }));
    client.once('error', (err: Error & { code?: number }) => {
      client.end(true);
      resolve({ client: null, reason: typeof err.code === 'number' ? err.code : -1 });
    });
  });
}

t.test('enrolment provisions Mosquitto dynsec; a site is confined to its own topics; revocation removes it', async (t) => {
  const dir = tempDir('dynsec');
  t.teardown(dir.remove);
  const broker = await new DynsecMosquitto(dir.path).start();
  t.teardown(() => broker.stop());
  const hub = await new HubHandle({
    dir: join(dir.path, 'hub'),
    echo: process.env.ECHO ? (l) => console.error(l) : undefined,
    overrides: {
      externalBroker: { url: broker.url, username: broker.admin.username, password: broker.admin.password, clientId: uniqueSiteId('ingest'), provision: 'mosquitto-dynsec', sweepSeconds: 1 },
    },
  }).start();
  t.teardown(() => hub.proc.stop());

  // A real agent enrols and delivers through the provisioned account.
  const siteA = uniqueSiteId('dsa');
  const agent = new AgentHandle({ dir: join(dir.path, 'agent'), siteId: siteA, mqttUrl: broker.url, overrides: { sampling: { intervalSeconds: 1 } } });
  await agent.enroll(hub.httpUrl, await hub.addSite(siteA));
  await agent.start();
  t.teardown(() => agent.proc.stop());
  await waitFor('statuses of site A stored through Mosquitto', () => hubMessages(join(hub.opts.dir, 'data'), siteA).filter((r) => r.type === 'status').length >= 2, 30_000);
  t.match(broker.ctrl(['getClient', siteA]), new RegExp(`Roles:\\s+sentinela-site-${siteA}`), "site A's client has its role on the broker");

  // Site B, enrolled by hand: its own topics work, A's are refused.
  const siteB = uniqueSiteId('dsb');
  const b = await enrollOverHttp(hub, await hub.addSite(siteB));
  t.equal(b.status, 200, 'site B enrolled');
  const wrongId = await connect(broker.url, siteB, b.body.password, `${siteB}-other`);
  t.not(wrongId.reason, 0, 'the client id is pinned to the site id');
  const { client } = await connect(broker.url, siteB, b.body.password);
  t.ok(client, 'site B logs in with the password enrolment gave it');
  const own = await client!.subscribeAsync(siteDownFilter(siteB), { qos: 1 });
  t.equal(own[0]!.qos, 1, 'site B may subscribe to its own down/ topics');
  // mqtt.js turns a SUBACK reason >= 0x80 into a rejection.
  const other = await client!.subscribeAsync(siteDownFilter(siteA), { qos: 1 }).then(
    (g) => g[0]!.qos,
    (err: Error) => err.message,
  );
  t.match(other, /Not authorized/, "site B may not subscribe to site A's down/ topics (SUBACK 0x87, not authorised)");
  const before = hubMessages(join(hub.opts.dir, 'data'), siteA).length;
  const spoof = JSON.stringify({ v: 1, type: 'event', site: siteA, stream: 'spoof', seq: 1, ts: new Date().toISOString(), data: { level: 'critical', code: 'spoof', text: 'spoofed' } });
  const puback = await client!.publishAsync(upTopic(siteA, 'event'), spoof, { qos: 1 }).then(
    (p) => (p as { reasonCode?: number } | undefined)?.reasonCode ?? 0,
    (err: Error & { code?: number }) => err.code ?? -1,
  );
  t.not(puback, 0, `a publish on site A's topic is refused by the broker (PUBACK reason ${puback})`);
  await new Promise((r) => setTimeout(r, 1500));
  const hubDb = new Database(join(hub.opts.dir, 'data', 'hub.db'), { readonly: true });
  const spoofed = hubDb.prepare("SELECT COUNT(*) FROM messages WHERE stream = 'spoof'").pluck().get() as number;
  hubDb.close();
  t.equal(spoofed, 0, `nothing from site B was stored as site A (${hubMessages(join(hub.opts.dir, 'data'), siteA).length - before} new rows, all A's own)`);

  // Revocation: the sweep removes B from the broker and drops its session.
  const closed = new Promise<void>((r) => client!.once('close', () => r()));
  const rev = await hub.cli(['sites', 'revoke', '--id', siteB]);
  t.equal(rev.code, 0, `sites revoke: ${rev.stderr}`);
  await closed;
  t.pass("site B's live session was closed by the broker");
  await waitFor("site B's role removed from the broker", () => !broker.ctrl(['listRoles']).includes(`sentinela-site-${siteB}`), 15_000);
  t.not((await connect(broker.url, siteB, b.body.password)).reason, 0, 'site B can no longer log in');
  t.match(broker.ctrl(['listRoles']), `sentinela-site-${siteA}`, "site A's role is untouched");

  // Re-enrolment brings B back with a new password.
  const tok = await hub.cli(['sites', 'token', '--id', siteB, '--json']);
  t.equal(tok.code, 0, 'a new token for site B');
  const again = await enrollOverHttp(hub, (JSON.parse(tok.stdout) as { token: string }).token);
  t.equal(again.status, 200, 're-enrolled');
  const back = await connect(broker.url, siteB, again.body.password);
  t.ok(back.client, 'site B logs in again after re-enrolment');
  back.client?.end(true);
});

t.test('an enrolment the broker cannot take is undone: 503, and the same token works once the broker is back', async (t) => {
  const dir = tempDir('dynsec-down');
  t.teardown(dir.remove);
  const broker = await new DynsecMosquitto(dir.path).start();
  t.teardown(() => broker.stop());
  const hub = await new HubHandle({
    dir: join(dir.path, 'hub'),
    overrides: {
      externalBroker: { url: broker.url, username: broker.admin.username, password: broker.admin.password, clientId: uniqueSiteId('ingest'), provision: 'mosquitto-dynsec' },
    },
  }).start();
  t.teardown(() => hub.proc.stop());
  const site = uniqueSiteId('dsc');
  const token = await hub.addSite(site);

  await broker.stop();
  const refused = await enrollOverHttp(hub, token);
  t.equal(refused.status, 503, 'the agent is told to retry');
  t.match(refused.body.error, /token is still valid/);

  await broker.start();
  const ok = await waitFor('the hub reconnected and the token works', async () => {
    const r = await enrollOverHttp(hub, token);
    return r.status === 200 ? r : null;
  }, 30_000, 1000);
  const { client } = await connect(broker.url, site, ok.body.password);
  t.ok(client, 'the site logs in with the password of the enrolment that succeeded');
  client?.end(true);
});

t.test('the hub refuses a provisioning config without the admin credentials, naming the key', async (t) => {
  const dir = tempDir('dynsec-conf');
  t.teardown(dir.remove);
  const hub = new HubHandle({ dir: join(dir.path, 'hub'), overrides: { externalBroker: { url: 'mqtt://127.0.0.1:1', provision: 'mosquitto-dynsec' } } });
  const r = await hub.cli(['doctor']);
  t.not(r.code, 0);
  t.match(r.stderr + r.stdout, /externalBroker\.username/);
  t.match(r.stderr + r.stdout, /dynamic-security admin/);
});
