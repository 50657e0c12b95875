/** A person's typo in a config file stops the program before it does anything, with a message that points at it. */
import t from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_BIN, HUB_BIN } from '@sentinela/tools/harness/paths.js';
import { runNode } from '@sentinela/tools/harness/process.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';

const dir = tempDir('config');
t.teardown(dir.remove);

t.test('agent: unknown key, wrong type and missing key, all reported at once, exit 2', async (t) => {
  const file = join(dir.path, 'agent.yaml');
  const dataDir = join(dir.path, 'agent-data');
  writeFileSync(
    file,
    [`dataDir: ${dataDir}`, 'sampling:', '  intervalSeconds: often', '  sevices: []', 'outbox:', '  maxBytes: lots', ''].join('\n'),
  );
  const r = await runNode(AGENT_BIN, ['run', '--config', file]);
  t.equal(r.code, 2, 'exit code 2');
  t.match(r.stderr, `${file}:1:1: hub: required key is missing`);
  t.match(r.stderr, `${file}:3:3: sampling.intervalSeconds: expected number; found the text "often"`);
  t.match(r.stderr, `${file}:4:3: sampling.sevices: unknown key "sevices"`);
  t.match(r.stderr, new RegExp(`${file}:6:3: outbox\\.maxBytes: .*found the text "lots"`));
  t.notOk(existsSync(dataDir), 'nothing was created before the config was checked');
});

t.test('hub: wrong types and no TLS, exit 2, nothing started', async (t) => {
  const file = join(dir.path, 'hub.yaml');
  const dataDir = join(dir.path, 'hub-data');
  writeFileSync(
    file,
    [
      'hubId: Bad Name',
      `dataDir: ${dataDir}`,
      'mqtt:',
      '  listen: { host: 127.0.0.1, port: "1883" }',
      'http:',
      '  listen: { host: 127.0.0.1, port: 0 }',
      '  extra: true',
      '',
    ].join('\n'),
  );
  const r = await runNode(HUB_BIN, ['serve', '--config', file]);
  t.equal(r.code, 2, 'exit code 2');
  t.match(r.stderr, `${file}:1:`);
  t.match(r.stderr, /hubId: lowercase letters, digits and dashes; found the text "Bad Name"/);
  t.match(r.stderr, /mqtt\.listen\.port: expected number; found the text "1883"/);
  t.match(r.stderr, /http\.extra: unknown key "extra"/);
  t.notOk(existsSync(dataDir), 'no database was created');
});

t.test('a missing config file is named', async (t) => {
  const r = await runNode(HUB_BIN, ['serve', '--config', join(dir.path, 'nope.yaml')]);
  t.equal(r.code, 2);
  t.match(r.stderr, /nope\.yaml: cannot read the config file \(ENOENT\)/);
});
