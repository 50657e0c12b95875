/**
 * Must show (issue 4, point 5): a DPS hub mirrors to an MoH hub. One site enrolled at the DPS hub
 * sends status and a backup; the MoH hub's API lists the site under the DPS hub's province with
 * its last status and holds its snapshot (exported from both hubs, byte for byte the same, the
 * key too); the MoH hub and the DPS hub killed mid-way lose and duplicate nothing (messages counted on both).
 */
import t from 'tap';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { encodeRelay, relayAckTopic, relayBatchTopic, relayUsername, type RelayAck } from '@sentinela/shared';
import { AgentHandle, HubHandle } from '@sentinela/tools/harness/fleet.js';
import { hubMessages } from '@sentinela/tools/harness/stores.js';
import { tempDir, uniqueSiteId } from '@sentinela/tools/harness/tmp.js';
import { sleep, waitFor } from '@sentinela/tools/harness/wait.js';

interface SiteView {
  id: string;
  province: string | null;
  name: string | null;
  connected: boolean;
  latestStatus: { seq: number; host: { hostname: string } } | null;
  messagesReceived: number;
}
interface Snapshots {
  offsite: Array<{ id: string; bytes: number }>;
}

/** Every file of an export folder, by name, as bytes. */
function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else out.set(`${rel}${e.name}`, readFileSync(join(d, e.name)));
    }
  };
  walk(dir, '');
  return out;
}

const echo = process.env.SENTINELA_TEST_ECHO ? (l: string) => process.stderr.write(`${l}\n`) : undefined;

t.test('a DPS hub mirrors its site to the MoH hub: messages, births and deaths, the backup and its key; MoH and DPS restarts lose nothing', async (t) => {
  const dir = tempDir('mirror');
  t.teardown(dir.remove);
  const province = 'maputo-provincia';

  const moh = await new HubHandle({ dir: join(dir.path, 'moh'), hubId: 'moh', echo }).start();
  t.teardown(() => moh.proc.stop());
  const added = await moh.cli(['relays', 'add', '--id', 'dps-maputo', '--province', province, '--json']);
  t.equal(added.code, 0, `relays add: ${added.stderr}`);
  const { secret } = JSON.parse(added.stdout) as { secret: string };

  const dps = new HubHandle({
    dir: join(dir.path, 'dps'),
    hubId: 'dps-maputo',
    echo,
    overrides: { upstream: { url: moh.mqttUrl, relayId: 'dps-maputo', province, pollSeconds: 0.2, ackTimeoutSeconds: 3, backups: { everySeconds: 1, pieceBytes: '32KiB' } } },
  });
  const secretFile = join(dir.path, 'relay.secret');
  writeFileSync(secretFile, 'not-the-secret\n', { mode: 0o600 });
  const wrong = await dps.cli(['upstream', 'enrol', '--secret-file', secretFile]);
  t.equal(wrong.code, 1, 'a wrong secret is refused at enrolment');
  t.match(wrong.stderr, /refused relay dps-maputo.*nothing stored/, "and nothing is stored");
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const enrol = await dps.cli(['upstream', 'enrol', '--secret-file', secretFile]);
  t.equal(enrol.code, 0, `upstream enrol: ${enrol.stderr}`);
  // The MoH hub is down while the site enrols, sends and backs up: the DPS hub keeps it all.
  await moh.proc.stop();
  await dps.start();
  t.teardown(() => dps.proc.stop());

  // One site at the DPS hub, with a small files source backed up before the agent runs.
  const siteId = uniqueSiteId('hf-mir');
  const src = join(dir.path, 'config-files');
  mkdirSync(src, { recursive: true });
  // Random content, so the snapshot's objects span several pieces.
  for (let i = 0; i < 5; i++) writeFileSync(join(src, `f${i}.txt`), randomBytes(40_000 + i * 10_000).toString('hex'));
  const agent = new AgentHandle({
    dir: join(dir.path, 'agent'),
    siteId,
    mqttUrl: dps.mqttUrl,
    overrides: { sampling: { intervalSeconds: 1 }, backup: { sources: [{ kind: 'files', name: 'config', path: src }] }, offsite: { enabled: true } },
  });
  await agent.enroll(dps.httpUrl, await dps.addSite(siteId, ['--province', province, '--name', 'Centro de Saúde de Boane']));
  const backup = await agent.cli(['backup']);
  t.equal(backup.code, 0, `agent backup: ${backup.stderr}`);
  await agent.start();
  t.teardown(() => agent.proc.stop());

  const dpsToken = await dps.addApiToken('test');
  const dpsSnap = await waitFor('the snapshot at the DPS hub', async () => (await dps.api<Snapshots>(`/api/v1/sites/${siteId}/snapshots`, dpsToken)).offsite[0], 60_000);
  await waitFor('statuses waiting at the DPS hub', () => hubMessages(join(dir.path, 'dps', 'data'), siteId).length >= 3 || null);
  await moh.start();
  const mohToken = await moh.addApiToken('test');
  const mohSite = () => moh.api<{ sites: SiteView[] }>('/api/v1/sites', mohToken).then((r) => r.sites.find((s) => s.id === siteId));

  // The MoH hub learns the site from the relay, with the relay's province and a status.
  const seen = await waitFor('the site at the MoH hub with a status', async () => {
    const s = await mohSite();
    return s?.latestStatus ? s : null;
  }, 90_000).catch((err: Error) => {
    // What both hubs said last: the way to tell a slow machine from a stuck relay.
    const tail = (h: HubHandle) => h.proc.lines.slice(-25).join('\n');
    throw new Error(`${err.message}\n--- MoH hub:\n${tail(moh)}\n--- DPS hub:\n${tail(dps)}`);
  });
  t.equal(seen.province, province, 'the MoH hub records the site under the DPS hub province');
  t.equal(seen.name, 'Centro de Saúde de Boane', "and with the DPS hub's name for it");
  t.equal(seen.latestStatus!.host.hostname.length > 0, true, 'the status carries the host');

  // The MoH hub killed (no goodbye) mid-way while the agent goes on sending status every second.
  await sleep(2000);
  await moh.proc.kill();
  await sleep(3000); // statuses pile up at the DPS hub meanwhile
  await moh.start();

  const mohSnap = await waitFor('the snapshot at the MoH hub', async () => (await moh.api<Snapshots>(`/api/v1/sites/${siteId}/snapshots`, mohToken)).offsite[0], 60_000);
  t.equal(mohSnap.id, dpsSnap.id, 'the MoH hub holds the same snapshot');
  t.equal(mohSnap.bytes, dpsSnap.bytes, 'of the same size');
  const held = dps.proc.findLog((l) => l.snapshot === dpsSnap.id && typeof l.sentBytes === 'number');
  t.equal(held?.sentBytes, dpsSnap.bytes, `only what the MoH hub lacked crossed, once: ${String(held?.sentBytes)} bytes for ${dpsSnap.bytes} stored`);

  // Then the DPS hub killed and started again: its cursor and log are in its database.
  const dpsData = join(dir.path, 'dps', 'data');
  const beforeKill = hubMessages(dpsData, siteId).length;
  await dps.proc.kill();
  await dps.start();
  await waitFor('statuses after the DPS restart', () => hubMessages(dpsData, siteId).length >= beforeKill + 2 || null);
  await waitFor('the site connected again at the MoH hub', async () => (await mohSite())?.connected || null);
  t.pass('after both restarts the MoH hub shows the site connected (to its DPS hub)');

  // Stop the source, then every message the DPS hub holds must be at the MoH hub exactly once.
  await agent.proc.stop();
  await waitFor('the death at the MoH hub', async () => (await mohSite())?.connected === false || null);
  t.pass('the agent\'s goodbye at the DPS hub reaches the MoH hub as a death');
  const mohData = join(dir.path, 'moh', 'data');
  const dpsRows = hubMessages(dpsData, siteId);
  await waitFor('every message at the MoH hub', () => hubMessages(mohData, siteId).length >= dpsRows.length || null, 30_000);
  const mohRows = hubMessages(mohData, siteId);
  t.ok(dpsRows.length >= 8, `the site sent ${dpsRows.length} messages (${[...new Set(dpsRows.map((r) => r.type))].join(', ')}) across the MoH outage and both restarts`);
  t.equal(mohRows.length, dpsRows.length, `MoH holds ${mohRows.length} messages, DPS ${dpsRows.length}`);
  t.same(mohRows.map((r) => `${r.type}:${r.seq}`), dpsRows.map((r) => `${r.type}:${r.seq}`), 'the same messages, none lost, none twice');
  const site = (await mohSite())!;
  t.equal(site.messagesReceived, dpsRows.length, 'the MoH API counts the same');

  // The snapshot exported from either hub is byte for byte the same, with the key escrowed at each.
  const fromDps = join(dir.path, 'export-dps');
  const fromMoh = join(dir.path, 'export-moh');
  const e1 = await dps.cli(['backups', 'export', '--site', siteId, '--snapshot', dpsSnap.id, '--with-key', '--out', fromDps]);
  t.equal(e1.code, 0, `export at DPS: ${e1.stderr}`);
  const e2 = await moh.cli(['backups', 'export', '--site', siteId, '--snapshot', dpsSnap.id, '--with-key', '--out', fromMoh]);
  t.equal(e2.code, 0, `export at MoH: ${e2.stderr}`);
  const a = files(fromDps);
  const b = files(fromMoh);
  t.ok(a.size > 2, `the export holds ${a.size} files`);
  t.same([...b.keys()].sort(), [...a.keys()].sort(), 'the same files');
  // Each hub's store has its own repository id and the key file its export time: the data must be equal.
  const data = [...a.keys()].filter((n) => n.startsWith('objects/') || n.startsWith('snapshots/'));
  t.ok(data.length >= 2, `objects and snapshot files: ${data.join(', ')}`);
  t.same(data.filter((n) => !b.get(n)?.equals(a.get(n)!)), [], 'every object and snapshot file byte for byte the same');
  const key = (m: Map<string, Buffer>) => JSON.parse(m.get('backup.key')!.toString('utf8')) as { key: string; keyId: string };
  t.same(key(b), { ...key(b), key: key(a).key, keyId: key(a).keyId }, 'the MoH hub opens the same site key (re-sealed to its escrow key)');
});

t.test('a relay speaks only for the sites it brought, under its own province', async (t) => {
  const dir = tempDir('mirror-acl');
  t.teardown(dir.remove);
  const moh = await new HubHandle({ dir: join(dir.path, 'moh'), hubId: 'moh', echo }).start();
  t.teardown(() => moh.proc.stop());
  const secretOf = async (id: string, province: string) => {
    const r = await moh.cli(['relays', 'add', '--id', id, '--province', province, '--json']);
    t.equal(r.code, 0, `relays add ${id}: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { secret: string }).secret;
  };
  const sofala = await secretOf('dps-sofala', 'sofala');
  const gaza = await secretOf('dps-gaza', 'gaza');
  await moh.addSite('hf-direct');
  const token = await moh.addApiToken('test');

  const connect = async (relay: string, secret: string) => {
    const c = await mqtt.connectAsync(moh.mqttUrl, { clientId: relayUsername(relay), username: relayUsername(relay), password: secret, reconnectPeriod: 0 });
    t.teardown(() => c.endAsync(true));
    await c.subscribeAsync(relayAckTopic(relay), { qos: 1 });
    return c;
  };
  const status = (site: string, seq: number) =>
    JSON.stringify({
      v: 1, type: 'status', site, stream: 'acl-test-stream', seq, ts: new Date().toISOString(), services: [],
      host: { hostname: 'hf', uptimeSec: 1, cpu: { cores: 1, load1: 0, load5: 0, load15: 0, usagePct: 1 }, memory: { totalBytes: 1, usedBytes: 1, availableBytes: 0 }, filesystems: [] },
    });
  /** Sends one batch and returns the MoH hub's ack. */
  const batch = async (c: mqtt.MqttClient, relay: string, province: string, items: Array<{ n: number; site: string; seq: number }>) => {
    const ack = new Promise<RelayAck>((resolve) => c.once('message', (_topic, payload) => resolve(JSON.parse(payload.toString()) as RelayAck)));
    const b = { v: 1 as const, type: 'batch' as const, relay, province, items: items.map((i) => ({ n: i.n, kind: 'message' as const, site: i.site, payload: status(i.site, i.seq) })) };
    await c.publishAsync(relayBatchTopic(relay), encodeRelay(b), { qos: 1 });
    return ack;
  };

  const s = await connect('dps-sofala', sofala);
  const first = await batch(s, 'dps-sofala', 'sofala', [{ n: 1, site: 'hf-beira', seq: 1 }, { n: 2, site: 'hf-direct', seq: 1 }]);
  t.equal(first.upTo, 2, 'the batch is acked as a whole');
  t.same(first.refused.map((r) => r.site), ['hf-direct'], 'a site enrolled at the MoH hub directly is refused');
  const wrongProvince = await batch(s, 'dps-sofala', 'gaza', [{ n: 3, site: 'hf-beira', seq: 2 }]);
  t.match(wrongProvince.error, /registered for province sofala, not gaza/, 'a batch under another province is refused whole');
  t.equal(wrongProvince.upTo, 2, 'and the cursor does not move');

  const g = await connect('dps-gaza', gaza);
  const stolen = await batch(g, 'dps-gaza', 'gaza', [{ n: 1, site: 'hf-beira', seq: 3 }]);
  t.same(stolen.refused.map((r) => `${r.site}: ${r.reason}`), ['hf-beira: site hf-beira is mirrored by relay dps-sofala, not dps-gaza'], "another province's site is refused");

  const sites = (await moh.api<{ sites: SiteView[] }>('/api/v1/sites', token)).sites;
  t.same(sites.filter((x) => x.id === 'hf-beira').map((x) => [x.province, x.messagesReceived]), [['sofala', 1]], 'the site is listed under the relay province with only its own message');
  t.equal(sites.find((x) => x.id === 'hf-direct')?.messagesReceived, 0, 'nothing reached the directly enrolled site');

  const refused = await g.subscribeAsync('sentinela/v1/site/+/down/#', { qos: 1 }).then(
    () => null,
    (e: { packet?: { granted?: number[] } }) => e,
  );
  t.same(refused?.packet?.granted, [128], "a relay cannot subscribe to the sites' down topics beyond backup sync (SUBACK 128)");
  const closed = new Promise<void>((r) => g.once('close', () => r()));
  g.publish('sentinela/v1/site/hf-beira/up/status', status('hf-beira', 9), { qos: 1 });
  await closed;
  t.pass('a relay publishing on a site topic directly is disconnected');
});
