import t from 'tap';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../harness.test-support.js';
import { helpText, parseOnly } from '@sentinela/shared/cli';
import { HUB_PROGRAM, main } from './program.js';
import { openDb } from '../database.js';
import { listAudit } from '../users/audit.js';
import { getUser } from '../users/users.js';
import { createSession, findSession } from '../users/sessions.js';

const BIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** The real program, as a process: exit code and streams. */
function runProcess(args: string[], opts: SpawnSyncOptions = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', ...opts });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The same entry point in-process (fast): main() returns the exit code. */
async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`) });
  return { code, out, err };
}

function writeConfig(dir: string, extra = ''): string {
  const file = join(dir, 'hub.yaml');
  writeFileSync(
    file,
    `hubId: dps-test
dataDir: ${join(dir, 'data')}
mqtt:
  listen: { host: 127.0.0.1, port: 0 }
  allowPlaintext: true
http:
  listen: { host: 127.0.0.1, port: 0 }
  publicUrl: https://hub.example.org
${extra}`,
  );
  return file;
}

t.test('config errors exit 2 with the problem on stderr', async (t) => {
  const dir = tempDir(t);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'hubId: dps-test\ndataDir: /tmp/x\nmqtt:\n  listen: { port: 1883 }\nhttp:\n  listen: { port: 8080 }\nbogus: 1\n');
  for (const verb of [['serve'], ['sites', 'add', '--id', 'hf-0001'], ['sites', 'list'], ['tokens', 'add', '--name', 'x']]) {
    const r = verb[0] === 'serve' ? runProcess([...verb, '--config', bad]) : await run([...verb, '--config', bad]);
    t.equal(r.code, 2, `${verb.join(' ')}: exit 2`);
    t.match(r.err, /bad\.yaml:7:1: bogus: unknown key "bogus"/, 'the unknown key with its line');
    t.match(r.err, /mqtt\.tls: TLS is required/);
  }
  const missing = runProcess(['sites', 'list', '--config', join(dir, 'nope.yaml')]);
  t.equal(missing.code, 2);
  t.match(missing.err, /cannot read the config file \(ENOENT\)/);
});

t.test('usage errors exit 2, --help exits 0; help generated for every verb, each listed', async (t) => {
  t.equal((await run([])).code, 2);
  const help = await run(['--help']);
  t.equal(help.code, 0);
  t.match(help.out, /^Usage: sentinela-hub \[options\] \[command\]/);
  t.match(help.out, /Exit codes: 0 ok, 1 runtime failure, 2 usage or config error/);
  for (const verb of HUB_PROGRAM.verbs) {
    const [first, second] = verb.name.split(' ');
    t.match(help.out, new RegExp(`\\n  ${first}\\b`), `${first} listed`);
    if (second) t.match((await run([first!, '--help'])).out, new RegExp(`\\n  ${second} `), `${first} --help lists ${second}`);
    const r = await run([...verb.name.split(' '), '--help']);
    t.equal(r.code, 0, `${verb.name} --help`);
    t.equal(r.out, helpText(HUB_PROGRAM, verb.name), `${verb.name}: the generated help`);
    t.match(r.out, new RegExp(`^Usage: sentinela-hub ${verb.name} `), `${verb.name}: its usage line`);
    t.match(r.out, /-c, --config <FILE>\s+hub\.yaml[^]*?\(default:\s+"\/etc\/sentinela\/hub\.yaml"\)/, `${verb.name}: -c, --config with the default path, as the agent`);
    for (const name of Object.keys(verb.options)) t.match(r.out, `--${name}`, `${verb.name}: --${name} explained`);
    t.match(r.out, /\nExamples:\n {2}(sudo -u sentinela )?sentinela-hub /, `${verb.name}: an example`);
  }
  const unknown = await run(['sites', 'add', '--bogus']);
  t.equal(unknown.code, 2);
  t.match(unknown.err, /unknown option '--bogus'\nsee: sentinela-hub sites add --help/);
  t.equal((await run(['nope'])).code, 2);
  t.equal((await run(['sites'])).code, 2, 'a group without its verb');
  t.match((await run(['sites', 'add'])).err, /--id is required/);
  t.match((await run(['--version'])).out, /^\d+\.\d+\.\d+/);
});

t.test('every sentinela-hub command in the README and docs/operations.md parses with the hub\u2019s own parser', async (t) => {
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  let n = 0;
  for (const file of ['README.md', 'docs/operations.md']) {
    const text = readFileSync(join(root, file), 'utf8');
    const lines = [...text.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n'));
    lines.push(...[...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!));
    for (const raw of lines) {
      const line = raw.replace(/#.*$/, '').replace(/^.*?(?=sentinela-hub [a-z])/, '').trim();
      // Prose forms: optional parts, alternatives, placeholders.
      if (!/^sentinela-hub [a-z]/.test(line) || /[[|…]/.test(line)) continue;
      const words = [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!).slice(1);
      n++;
      try {
        parseOnly(HUB_PROGRAM, words);
        t.pass(`${file}: ${line}`);
      } catch (err) {
        t.fail(`${file}: ${line}: ${(err as Error).message}`);
      }
    }
  }
  t.ok(n >= 15, `${n} commands checked`);
});

t.test('sites add, token, list and tokens add', async (t) => {
  const dir = tempDir(t);
  const cfg = writeConfig(dir);
  const add = await run(['sites', 'add', '--config', cfg, '--id', 'hf-0001', '--name', 'CS Chamanculo', '--province', 'maputo-cidade']);
  t.equal(add.code, 0, add.err);
  const lines = add.out.trimEnd().split('\n');
  t.equal(lines[0], 'Created site hf-0001 (CS Chamanculo, maputo-cidade).');
  t.match(lines[1], /^One-time enrolment token for hf-0001 \(valid until \d{4}-\d\d-\d\dT[\d:.]+Z\):$/);
  t.match(lines[2], /^ {2}enr_[A-Za-z0-9_-]{43}$/);
  t.equal(lines[3], 'On the site server, run:');
  t.equal(lines[4], `  sentinela-agent enroll --config /etc/sentinela/agent.yaml --hub https://hub.example.org --token ${lines[2]!.trim()}`);

  const json = await run(['sites', 'add', '--config', cfg, '--id', 'hf-0002', '--json']);
  t.equal(json.code, 0);
  const j = JSON.parse(json.out);
  t.match(j, { siteId: 'hf-0002', name: null, province: null, token: /^enr_/, expiresAt: String, hubUrl: 'https://hub.example.org' });
  t.equal(j.enrollCommand, `sentinela-agent enroll --config /etc/sentinela/agent.yaml --hub https://hub.example.org --token ${j.token}`);

  const dup = await run(['sites', 'add', '--config', cfg, '--id', 'hf-0001']);
  t.equal(dup.code, 1);
  t.match(dup.err, /site hf-0001 already exists/);
  t.equal((await run(['sites', 'add', '--config', cfg, '--id', 'HF 1'])).code, 2, 'a bad id is a usage error');

  const tok = await run(['sites', 'token', '--config', cfg, '--id', 'hf-0001', '--json']);
  t.equal(tok.code, 0);
  t.match(JSON.parse(tok.out), { siteId: 'hf-0001', token: /^enr_/ });
  const noSite = await run(['sites', 'token', '--config', cfg, '--id', 'hf-0404']);
  t.equal(noSite.code, 1);
  t.match(noSite.err, /there is no site hf-0404/);

  const list = await run(['sites', 'list', '--config', cfg]);
  t.equal(list.code, 0);
  t.match(list.out, /^ID\s+STATE\s+LAST SEEN/);
  t.match(list.out, /hf-0001\s+never-seen/);
  const listJson = JSON.parse((await run(['sites', 'list', '--config', cfg, '--json'])).out);
  t.same(listJson.sites.map((s: { id: string }) => s.id), ['hf-0001', 'hf-0002']);

  const api = await run(['tokens', 'add', '--config', cfg, '--name', 'grafana', '--json']);
  t.equal(api.code, 0);
  t.match(JSON.parse(api.out), { name: 'grafana', token: /^sat_/ });
});

t.test('users add prints the console login address', async (t) => {
  const dir = tempDir(t);
  const pw = join(dir, 'pw');
  writeFileSync(pw, 'a long enough password 1\n');
  const cfg = writeConfig(dir);
  const add = (name: string) => run(['users', 'add', '--config', cfg, '--name', name, '--role', 'viewer', '--password-file', pw]);
  const r = await add('ana.m');
  t.equal(r.code, 0, r.err);
  t.match(r.out, /They can log in at https:\/\/hub\.example\.org\/login\n/, 'a slash between the address and login (was "…orglogin")');
  // A publicUrl with a path and a trailing slash: the login page is under the path.
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('https://hub.example.org', 'https://hub.example.org/sentinela/'));
  const r2 = await add('rui.c');
  t.equal(r2.code, 0, r2.err);
  t.match(r2.out, /They can log in at https:\/\/hub\.example\.org\/sentinela\/login\n/);
  // No publicUrl: the listen address.
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/ {2}publicUrl:.*\n/, ''));
  const r3 = await add('eva.p');
  t.equal(r3.code, 0, r3.err);
  t.match(r3.out, /They can log in at http:\/\/127\.0\.0\.1:0\/login\n/);
});

t.test('users add reads the password piped on stdin, and at a terminal prompt without echo (defect 3)', async (t) => {
  const dir = tempDir(t);
  const cfg = writeConfig(dir);
  const piped = runProcess(['users', 'add', '-c', cfg, '--name', 'ana.m', '--role', 'admin'], { input: 'piped password 123\n' });
  t.equal(piped.code, 0, String(piped.err));
  t.match(piped.out, /^Created admin ana\.m\./);
  const none = runProcess(['users', 'add', '-c', cfg, '--name', 'rui.c', '--role', 'viewer'], { input: '' });
  t.equal(none.code, 2, 'nothing on stdin: a usage error');
  t.match(none.err, /no password given/);

  // A real terminal: script(1) gives the program a pty; the password is typed after each prompt.
  const typed = 'typed at the prompt 42';
  const child = spawn('script', ['-qec', `${process.execPath} ${BIN} users add -c ${cfg} --name eva.p --role viewer`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let screen = '';
  let answered = 0;
  child.stdout.on('data', (d: Buffer) => {
    screen += d.toString();
    const prompts = (screen.match(/Password \/ Palavra-passe: |Again \/ Outra vez: /g) ?? []).length;
    while (answered < prompts) {
      answered++;
      child.stdin.write(`${typed}\r`);
    }
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  t.equal(code, 0, screen);
  t.equal(answered, 2, 'asked twice on a terminal');
  t.match(screen, /Created viewer eva\.p\./);
  t.notMatch(screen, typed, 'the password is not echoed');

  const config = join(dir, 'data');
  const db = openDb(config);
  t.teardown(() => db.close());
  t.ok(getUser(db, 'eva.p'), 'the user typed at the prompt exists');
  t.same(listAudit(db, 10).filter((a) => a.action === 'users.add').map((a) => [a.target, a.ok]).sort(), [['ana.m', 1], ['eva.p', 1]]);
});

t.test('users disable, enable, password and delete: sessions end, the last admin stays, each change audited', async (t) => {
  const dir = tempDir(t);
  const cfg = writeConfig(dir);
  const pw = join(dir, 'pw');
  writeFileSync(pw, 'a long enough password 1\n');
  for (const [name, role] of [['ana.m', 'admin'], ['rui.c', 'operator']]) t.equal((await run(['users', 'add', '-c', cfg, '--name', name!, '--role', role!, '--password-file', pw])).code, 0);
  const db = openDb(join(dir, 'data'));
  t.teardown(() => db.close());
  const session = () => createSession(db, getUser(db, 'rui.c')!.id, 1, '127.0.0.1').token;

  let token = session();
  const off = await run(['users', 'disable', '-c', cfg, '--name', 'rui.c']);
  t.equal(off.code, 0, off.err);
  t.match(off.out, /Disabled rui\.c/);
  t.equal(findSession(db, token), null, 'the disabled user\u2019s session ends at once');
  t.match(JSON.parse((await run(['users', 'list', '-c', cfg, '--json'])).out).users, [{ name: 'ana.m', disabled: false }, { name: 'rui.c', disabled: true }]);
  t.match((await run(['users', 'list', '-c', cfg])).out, /rui\.c\s+operator\s+\S+\s+DISABLED/);
  const on = await run(['users', 'enable', '-c', cfg, '--name', 'rui.c', '--json']);
  t.same(JSON.parse(on.out), { name: 'rui.c', role: 'operator', disabled: false });

  token = session();
  const before = getUser(db, 'rui.c')!.password_hash;
  writeFileSync(pw, 'another long password 2\n');
  const reset = await run(['users', 'password', '-c', cfg, '--name', 'rui.c', '--password-file', pw]);
  t.equal(reset.code, 0, reset.err);
  t.not(getUser(db, 'rui.c')!.password_hash, before, 'a new hash');
  t.equal(findSession(db, token), null, 'the old sessions end');
  const short = runProcess(['users', 'password', '-c', cfg, '--name', 'rui.c'], { input: 'short\n' });
  t.equal(short.code, 2, 'a too-short password piped in is refused');

  const last = await run(['users', 'disable', '-c', cfg, '--name', 'ana.m']);
  t.equal(last.code, 2);
  t.match(last.err, /ana\.m is the only enabled admin/);
  t.equal((await run(['users', 'delete', '-c', cfg, '--name', 'ana.m'])).code, 2, 'nor deleted');
  const del = await run(['users', 'delete', '-c', cfg, '--name', 'rui.c']);
  t.equal(del.code, 0, del.err);
  t.equal(getUser(db, 'rui.c'), undefined);
  const gone = await run(['users', 'delete', '-c', cfg, '--name', 'rui.c']);
  t.equal(gone.code, 2);
  t.match(gone.err, /there is no user rui\.c/);

  const trail = listAudit(db, 50).reverse().map((a) => `${a.actor} ${a.action} ${a.target} ${a.ok}`);
  t.same(trail, [
    'cli users.add ana.m 1',
    'cli users.add rui.c 1',
    'cli users.disable rui.c 1',
    'cli users.enable rui.c 1',
    'cli users.password rui.c 1',
    'cli users.password rui.c 0',
    'cli users.disable ana.m 0',
    'cli users.delete ana.m 0',
    'cli users.delete rui.c 1',
    'cli users.delete rui.c 0',
  ]);
});

t.test('serve prints "hub ready" and stops on SIGTERM with exit 0', async (t) => {
  const dir = tempDir(t);
  const cfg = writeConfig(dir);
  const child = spawn(process.execPath, [BIN, 'serve', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "hub ready" line: ${out}`)), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        if (line.includes('"msg":"hub ready"')) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as Record<string, unknown>);
        }
      }
    });
  });
  t.type(ready.mqttPort, 'number');
  t.type(ready.httpPort, 'number');
  t.not(ready.mqttPort, 0, 'the bound port, not 0');
  const res = await fetch(`http://127.0.0.1:${ready.httpPort}/healthz`);
  t.equal(res.status, 200);
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  t.equal(await exit, 0);
  t.match(out, /"msg":"hub stopped"/);
});
