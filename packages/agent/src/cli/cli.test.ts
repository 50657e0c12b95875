import t from 'tap';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpText } from '@sentinela/shared/cli';
import { AGENT_PROGRAM } from './program.js';
import { purgeSession, tempDir, TestHub, uniqueSite, waitFor, BROKER_URL } from '../fixtures.test-support.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], opts: { onSpawn?: (p: ReturnType<typeof spawn>) => void } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    opts.onSpawn?.(p);
  });
}

function writeConfig(dir: string, body: string): string {
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, body);
  return file;
}

/** A stand-in for the hub's enrolment endpoint. */
async function enrolServer(t: { teardown(fn: () => unknown): void }, reply: (body: { token?: string }) => [number, unknown]) {
  const srv = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/api/v1/enroll') {
        res.writeHead(404).end();
        return;
      }
      const [status, body] = reply(JSON.parse(data) as { token?: string });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  return `http://127.0.0.1:${(srv.address() as import('node:net').AddressInfo).port}`;
}

t.test('help: generated from the verbs and their options, every verb listed, every verb explained', async (t) => {
  const r = await cli(['--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /^Usage: sentinela-agent \[options\] \[command\]/);
  t.match(r.stdout, /Exit codes: 0 ok, 1 runtime failure, 2 usage or config error/);
  for (const verb of AGENT_PROGRAM.verbs) {
    const [first, second] = verb.name.split(' ');
    t.match(r.stdout, new RegExp(`\\n  ${first}\\b`), `${first} listed`);
    // In-process (the same text `VERB --help` prints; one process per verb is too slow here).
    const v = { stdout: helpText(AGENT_PROGRAM, verb.name) };
    t.match(v.stdout, new RegExp(`^Usage: sentinela-agent ${verb.name} `), `${verb.name}: its usage line`);
    t.match(v.stdout, /-c, --config <FILE>\s+agent\.yaml[^]*?\(default:\s+"\/etc\/sentinela\/agent\.yaml"\)/, `${verb.name}: -c, --config with the default path`);
    for (const name of Object.keys(verb.options)) t.match(v.stdout, `--${name}`, `${verb.name}: --${name} explained`);
    t.match(v.stdout, /\nExamples:\n {2}(sudo -u sentinela |echo \d+ \| )?sentinela-agent /, `${verb.name}: an example`);
    if (second) {
      const group = { stdout: helpText(AGENT_PROGRAM, first) };
      t.match(group.stdout, new RegExp(`\\n  ${second} `), `${first} --help lists ${second}`);
    }
  }
  const restore = await cli(['restore', '--help']);
  t.equal(restore.code, 0);
  t.equal(restore.stdout, helpText(AGENT_PROGRAM, 'restore'), 'restore --help prints the generated help');
  const unknown = await cli(['frobnicate']);
  t.equal(unknown.code, 2, 'unknown verb');
  t.match(unknown.stderr, /unknown command 'frobnicate'\nsee: sentinela-agent --help/);
  const bad = await cli(['status', '--nope']);
  t.equal(bad.code, 2, 'unknown option');
  t.match(bad.stderr, /unknown option '--nope'\nsee: sentinela-agent status --help/);
  t.equal((await cli(['disk', 'init'])).code, 2, 'missing PATH');
  t.equal((await cli([])).code, 2, 'no verb: the help, on stderr, and exit 2');
  t.equal((await cli(['help'])).code, 0);
  t.match((await cli(['--version'])).stdout, /^\d+\.\d+\.\d+/);
});

t.test('--config defaults to /etc/sentinela/agent.yaml, and -c names another', async (t) => {
  const missing = await cli(['status']);
  // The default is read, not "--config is required"; on a machine without it, that is a config error.
  if (existsSync('/etc/sentinela/agent.yaml')) t.not(missing.stderr, /--config/, 'the installed config is read');
  else {
    t.equal(missing.code, 2, 'no default config on this machine: a config error');
    t.match(missing.stderr, /\/etc\/sentinela\/agent\.yaml: cannot read the config file/);
  }
  const dir = tempDir(t);
  const file = writeConfig(dir, `dataDir: ${dir}\nhub:\n  mqttUrl: mqtt://127.0.0.1:1883\n`);
  const r = await cli(['status', '-c', file]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^site\s/m);
});

t.test('a config error exits 2 and names the key', async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir, `dataDir: ${dir}\nhub:\n  mqttUrl: mqtt://127.0.0.1:1883\noutbox:\n  inflight: 0\n`);
  for (const verb of ['run', 'status', 'enroll']) {
    const r = await cli([verb, '--config', file, ...(verb === 'enroll' ? ['--hub', 'http://x', '--token', 'y'] : [])]);
    t.equal(r.code, 2, `${verb}: exit 2`);
    t.match(r.stderr, /outbox\.inflight/, `${verb}: key path in stderr`);
  }
});

t.test('enroll writes the credentials file 0600', async (t) => {
  const dir = tempDir(t);
  let token = '';
  const hub = await enrolServer(t, (b) => {
    token = b.token ?? '';
    return [200, { siteId: 'hc-maputo-01', username: 'hc-maputo-01', password: 'pw-123', mqtt: { port: 1883 } }];
  });
  const file = writeConfig(dir, `dataDir: ${dir}\nhub:\n  mqttUrl: mqtt://127.0.0.1:1883\n`);
  const r = await cli(['enroll', '--config', file, '--hub', hub, '--token', 'enr_abc']);
  t.equal(r.code, 0, r.stderr);
  t.equal(token, 'enr_abc', 'token sent as JSON');
  const credFile = join(dir, 'credentials.json');
  t.equal(statSync(credFile).mode & 0o777, 0o600);
  const creds = JSON.parse(readFileSync(credFile, 'utf8')) as Record<string, string>;
  t.match(creds, { siteId: 'hc-maputo-01', username: 'hc-maputo-01', password: 'pw-123', hubHttpUrl: hub });
  t.ok(!Number.isNaN(Date.parse(creds.enrolledAt!)));
  t.match(r.stdout, /enrolled as site hc-maputo-01/);
});

t.test('enroll reports the hub error text and exits 1', async (t) => {
  const dir = tempDir(t);
  const hub = await enrolServer(t, () => [409, { error: 'this enrolment token was already used on 2025-01-02' }]);
  const file = writeConfig(dir, `dataDir: ${dir}\nhub:\n  mqttUrl: mqtt://127.0.0.1:1883\n`);
  const r = await cli(['enroll', '--config', file, '--hub', hub, '--token', 'used']);
  t.equal(r.code, 1);
  t.match(r.stderr, /HTTP 409\): this enrolment token was already used on 2025-01-02/);
  t.notOk(existsSync(join(dir, 'credentials.json')), 'nothing written');
});

t.test('enroll refuses a site id that differs from site.id', async (t) => {
  const dir = tempDir(t);
  const hub = await enrolServer(t, () => [200, { siteId: 'hc-other', username: 'hc-other', password: 'p', mqtt: { port: 1883 } }]);
  const file = writeConfig(dir, `site:\n  id: hc-mine\ndataDir: ${dir}\nhub:\n  mqttUrl: mqtt://127.0.0.1:1883\n`);
  const r = await cli(['enroll', '--config', file, '--hub', hub, '--token', 't']);
  t.equal(r.code, 1);
  t.match(r.stderr, /enrols site "hc-other" but the config says site.id: hc-mine/);
  t.notOk(existsSync(join(dir, 'credentials.json')));
});

t.test('run without credentials exits 2 with what to do', async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir, `dataDir: ${dir}\nhub:\n  mqttUrl: mqtt://127.0.0.1:1883\n`);
  const r = await cli(['run', '--config', file]);
  t.equal(r.code, 2);
  t.match(r.stderr, /not enrolled yet: .*sentinela-agent enroll/);
});

t.test('status before enrolment, then run + SIGTERM, then status --json', async (t) => {
  const dir = tempDir(t);
  const site = uniqueSite('cli');
  const file = writeConfig(dir, `dataDir: ${dir}\nhub:\n  mqttUrl: ${BROKER_URL}\nsampling:\n  intervalSeconds: 3600\n`);
  const before = await cli(['status', '--config', file, '--json']);
  t.equal(before.code, 0);
  const b = JSON.parse(before.stdout) as { enrolled: boolean; outbox: { exists: boolean } };
  t.equal(b.enrolled, false);
  t.equal(b.outbox.exists, false);
  const text = await cli(['status', '--config', file]);
  t.match(text.stdout, /enrolled\s+NO: run sentinela-agent enroll/);
  t.match(text.stdout, /^power\s+not watched: no power section in agent\.yaml/m, 'issue 18 item 9: plain status prints a power line');
  t.match(JSON.parse(before.stdout), { power: { watch: 'off' } }, 'and --json always has power data');

  writeFileSync(
    join(dir, 'credentials.json'),
    JSON.stringify({ siteId: site, username: site, password: 'p', hubHttpUrl: 'http://hub', enrolledAt: new Date().toISOString() }),
    { mode: 0o600 },
  );
  const hub = await TestHub.start(site);
  hub.autoAck = false; // keep messages queued so status has something to show
  t.teardown(async () => {
    await hub.close();
    await purgeSession(site);
  });
  let stdout = '';
  const run = cli(['run', '--config', file], {
    onSpawn: (p) => {
      p.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('"msg":"agent ready"')) setTimeout(() => p.kill('SIGTERM'), 500);
      });
    },
  });
  const r = await run;
  t.equal(r.code, 0, 'SIGTERM: clean exit 0');
  t.match(r.stdout, /"msg":"agent ready"/);
  t.match(r.stdout, new RegExp(`"site":"${site}"`));
  await waitFor(() => hub.of('death').length >= 1, 5_000, 'clean death');
  t.equal(hub.of('death')[0]!.clean, true);

  const after = await cli(['status', '--config', file, '--json']);
  t.equal(after.code, 0);
  const s = JSON.parse(after.stdout) as Record<string, unknown> & { outbox: Record<string, unknown> };
  t.equal(s.site, site);
  t.equal(s.enrolled, true);
  t.equal(s.outbox.exists, true);
  t.ok((s.outbox.pending as number) >= 2, 'agent.started + a status sample waiting');
  t.type(s.outbox.stream, 'string');
  t.type(s.lastStatusTs, 'string');
  t.type(s.lastConnectedAt, 'string');
  const table = await cli(['status', '--config', file]);
  t.match(table.stdout, new RegExp(`site\\s+${site}`));
  t.match(table.stdout, /outbox\s+\d+ messages waiting/);
});
