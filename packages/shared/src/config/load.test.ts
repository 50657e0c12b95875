import t from 'tap';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { AgentConfig } from './agent.js';
import { HubConfig } from './hub.js';
import { ConfigError, loadConfigFile, parseConfigText } from './load.js';

const examples = resolve(fileURLToPath(import.meta.url), '../../../../../examples');

t.test('the documented examples are valid configs', async (t) => {
  const agent = loadConfigFile(resolve(examples, 'agent.yaml'), AgentConfig);
  t.equal(agent.outbox.maxBytes, 256 * 1024 * 1024, 'size text parsed');
  t.equal(agent.sampling.services[0]?.tcp, '127.0.0.1:3306');
  const hub = loadConfigFile(resolve(examples, 'hub.yaml'), HubConfig);
  t.equal(hub.mqtt.maxPayloadBytes, 256 * 1024);
});

t.test('the commented upstream: example of hub.yaml is valid once uncommented', async (t) => {
  const lines = readFileSync(resolve(examples, 'hub.yaml'), 'utf8').split('\n');
  const start = lines.indexOf('# upstream:');
  t.ok(start > 0, 'examples/hub.yaml documents upstream:');
  const block: string[] = [];
  for (let i = start; i < lines.length && (i === start || lines[i]!.startsWith('#   ')); i++) block.push(lines[i]!.slice(2));
  const text = `hubId: dps-maputo\ndataDir: /x\nmqtt: {listen: {port: 0}, allowPlaintext: true}\nhttp: {listen: {port: 0}}\n${block.join('\n')}\n`;
  const hub = parseConfigText('hub.yaml', text, HubConfig);
  t.equal(hub.upstream?.relayId, 'dps-maputo');
  t.equal(hub.upstream?.backups.pieceBytes, 128 * 1024, 'every key documented, sizes parsed');
});

function problems(text: string, schema: typeof AgentConfig | typeof HubConfig = AgentConfig): string[] {
  try {
    parseConfigText('agent.yaml', text, schema);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

t.test('errors name the file, line, key path, expectation and what was found', async (t) => {
  const text = ['dataDir: /tmp/a', 'hub:', '  mqttUrl: mqtt://127.0.0.1:1883', '  keepalive: 30', 'sampling:', '  intervalSeconds: ten', ''].join('\n');
  const p = problems(text);
  t.equal(p.length, 2);
  t.match(p[0], /^agent\.yaml:4:3: hub\.keepalive: unknown key "keepalive"/);
  t.match(p[1], /^agent\.yaml:6:3: sampling\.intervalSeconds: expected number; found the text "ten"/);
});

t.test('a missing required key and a wrong nested type', async (t) => {
  const p = problems('dataDir: /tmp/a\nsampling:\n  services:\n    - name: db\n      tcp: nowhere\n');
  t.match(p.join('\n'), /hub: required key is missing/);
  t.match(p.join('\n'), /agent\.yaml:5:\d+: sampling\.services\[0\]\.tcp: host:port, such as 127\.0\.0\.1:3306; found the text "nowhere"/);
});

t.test('a hub without TLS and without allowPlaintext is refused', async (t) => {
  const p = problems('hubId: h\ndataDir: /x\nmqtt:\n  listen: {port: 8883}\nhttp:\n  listen: {port: 8080}\n', HubConfig);
  t.match(p.join('\n'), /mqtt\.tls: TLS is required/);
});

t.test('broken YAML and an unreadable file', async (t) => {
  t.match(problems('dataDir: [unclosed\n').join('\n'), /agent\.yaml:\d+:\d+: not valid YAML/);
  t.throws(() => loadConfigFile('/nonexistent/agent.yaml', AgentConfig), /cannot read the config file \(ENOENT\)/);
});

t.test('an alias without its anchor, and an alias bomb, are refused as YAML errors with their line (issue 18)', async (t) => {
  t.match(problems('dataDir: /tmp/a\nhub:\n  mqttUrl: *nowhere\n'), [/^agent\.yaml:3:12: not valid YAML: Unresolved alias/]);
  const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let k = 1; k < 8; k++) bomb.push(`a${k}: &a${k} [${Array.from({ length: 10 }, () => `*a${k - 1}`).join(', ')}]`);
  t.match(problems(`dataDir: /tmp/a\n${bomb.join('\n')}\n`, HubConfig), [/^agent\.yaml:\d+:\d+: not valid YAML: Excessive alias count/]);
});
