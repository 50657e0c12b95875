/** `sentinela-hub sites add` → `sentinela-agent enroll`: one-time tokens, credentials only the agent can read. */
import t from 'tap';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentHandle, hubWithNewSite } from '@sentinela/tools/harness/fleet.js';
import { HUB_BIN } from '@sentinela/tools/harness/paths.js';
import { runNode } from '@sentinela/tools/harness/process.js';
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
