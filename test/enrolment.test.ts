/** `sentinela-hub sites add` → `sentinela-agent enroll`: one-time tokens, credentials only the agent can read. */
import t from 'tap';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentHandle, HubHandle, hubWithNewSite } from '@sentinela/tools/harness/fleet.js';
import { HUB_BIN } from '@sentinela/tools/harness/paths.js';
import { runNode } from '@sentinela/tools/harness/process.js';
import { makeTestCerts } from '@sentinela/tools/harness/tls.js';
import { tempDir, uniqueSiteId } from '@sentinela/tools/harness/tmp.js';
import { sleep } from '@sentinela/tools/harness/wait.js';

const dir = tempDir('enrol');
t.teardown(dir.remove);

t.test('a token enrols once; a used or expired token is refused with a clear message', async (t) => {
  const { hub, siteId, token } = await hubWithNewSite(t, join(dir.path, 'hub'), 'hf-enrol', ['--name', 'Centro de Saúde de Teste']);
  const agent = new AgentHandle({ dir: join(dir.path, 'a1'), siteId, mqttUrl: hub.mqttUrl });
  await agent.enroll(hub.httpUrl, token);

  const credFile = join(agent.opts.dir, 'data', 'credentials.json');
  t.equal(statSync(credFile).mode & 0o777, 0o600, 'credentials readable by the agent user only');
  const cred = JSON.parse(readFileSync(credFile, 'utf8')) as { siteId: string; password: string };
  t.equal(cred.siteId, siteId);
  t.ok(cred.password.length >= 32, 'a long random secret');

  const again = new AgentHandle({ dir: join(dir.path, 'a2'), siteId, mqttUrl: hub.mqttUrl });
  const reused = await again.cli(['enroll', '--hub', hub.httpUrl, '--token', token]);
  t.equal(reused.code, 1, 'a reused token fails');
  t.match(reused.stderr, /already used/);

  // A token that lives ~2 s: issued with a copy of the config that says so, then used too late.
  const shortLived = join(dir.path, 'hub-short-ttl.yaml');
  writeFileSync(shortLived, readFileSync(hub.configFile, 'utf8') + 'enrollment:\n  tokenTtlHours: 0.0006\n');
  const issued = await runNode(HUB_BIN, ['sites', 'add', '--id', uniqueSiteId('hf-late'), '--json', '--config', shortLived]);
  t.equal(issued.code, 0, issued.stderr);
  const late = (JSON.parse(issued.stdout) as { token: string }).token;
  await sleep(2500);
  const expired = await again.cli(['enroll', '--hub', hub.httpUrl, '--token', late]);
  t.equal(expired.code, 1, 'an expired token fails');
  t.match(expired.stderr, /expired/);

  const unknown = await again.cli(['enroll', '--hub', hub.httpUrl, '--token', 'sen-made-up-token']);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /token/i);
});

t.test('enrolment over https trusts hub.caFile from the config (no NODE_EXTRA_CA_CERTS)', async (t) => {
  delete process.env.NODE_EXTRA_CA_CERTS; // the agent processes inherit this environment
  const folder = (name: string) => {
    mkdirSync(join(dir.path, name), { recursive: true });
    return join(dir.path, name);
  };
  const certs = makeTestCerts(folder('certs'));
  const tlsFiles = { certFile: certs.certFile, keyFile: certs.keyFile };
  const hub = await new HubHandle({ dir: join(dir.path, 'hub-tls'), overrides: { http: { tls: tlsFiles } } }).start();
  t.teardown(() => hub.proc.stop());
  const httpsUrl = `https://localhost:${hub.httpPort}`;
  const siteId = uniqueSiteId('hf-https');
  const token = await hub.addSite(siteId);

  const untrusting = new AgentHandle({ dir: join(dir.path, 'tls-no-ca'), siteId, mqttUrl: hub.mqttUrl });
  const refused = await untrusting.cli(['enroll', '--hub', httpsUrl, '--token', token]);
  t.equal(refused.code, 1, 'without hub.caFile the hub is not trusted');
  t.match(refused.stderr, /the hub's certificate is not signed by a CA this server trusts \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); set hub\.caFile in the agent's config/);

  const wrongCa = makeTestCerts(folder('other-ca')).caFile;
  const mistaken = new AgentHandle({ dir: join(dir.path, 'tls-wrong-ca'), siteId, mqttUrl: hub.mqttUrl, overrides: { hub: { caFile: wrongCa } } });
  const wrong = await mistaken.cli(['enroll', '--hub', httpsUrl, '--token', token]);
  t.equal(wrong.code, 1, 'another CA is not enough');
  t.match(wrong.stderr, new RegExp(`not signed by the CA in hub\\.caFile \\(${wrongCa.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)`));

  const agent = new AgentHandle({ dir: join(dir.path, 'tls-ca'), siteId, mqttUrl: hub.mqttUrl, overrides: { hub: { caFile: certs.caFile } } });
  await agent.enroll(httpsUrl, token);
  const cred = JSON.parse(readFileSync(join(agent.opts.dir, 'data', 'credentials.json'), 'utf8')) as { siteId: string; hubHttpUrl: string };
  t.same([cred.siteId, cred.hubHttpUrl], [siteId, httpsUrl], 'enrolled over https with the CA from the config');

  // Restoring from the hub goes over the same https with the same CA: the hub answers (it holds no copy yet).
  const restore = await agent.cli(['restore', '--from', 'hub', '--latest', '--to-dir', join(dir.path, 'tls-restore')]);
  t.equal(restore.code, 1);
  t.notMatch(restore.stderr, /cannot reach the hub/, 'the hub was reached');
  t.match(restore.stderr, /the hub (refused the export|holds no off-site copy)/);
});
