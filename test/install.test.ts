/**
 * The release bundles, end to end under `install.sh --root DIR` (the clean-Debian chroot run is
 * installers/test-chroot.sh): build release N and N+1 with installers/build.sh, install N, make
 * real data with the installed programs running as the sentinela user (a hub with a site and its
 * messages, an enrolled agent with queued messages and backup snapshots), upgrade to N+1 and
 * count everything again; both schemas migrate forward; a downgrade is refused, and with --force
 * the older programs refuse the newer databases; uninstall keeps data, --purge removes it.
 *
 * Release N+1 is the tree plus one schema migration in the hub's store and one in the agent's
 * outbox (added to its staging copy, as the next release would add them), so that the upgrade
 * runs a real migration over real rows and N really is older than the data N+1 leaves.
 */
import t from 'tap';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, readlinkSync, readdirSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { REPO_ROOT } from '@sentinela/tools/harness/paths.js';
import { tempDir, uniqueSiteId } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';

const dir = tempDir('install');
t.teardown(dir.remove);
chmodSync(dir.path, 0o755); // the sentinela user runs the installed programs from in here

const base = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
const V1 = base.version;
const V2 = V1.replace(/(\d+)$/, (n) => String(Number(n) + 1));
const ROOT = join(dir.path, 'root');
const arch = process.arch;

/**
 * A clean environment, as a root shell would have: no NODE_OPTIONS from the test runner (its
 * loaders must not follow into the installed programs, and the sentinela user cannot read them).
 */
const CLEAN_ENV = { PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' };

/** `env -i`: tap's process tracking puts its loader in NODE_OPTIONS of every child, after any env we pass. */
const cleanEnv = (extra: NodeJS.ProcessEnv = {}) => ['-i', ...Object.entries({ ...CLEAN_ENV, ...extra }).map(([k, v]) => `${k}=${v}`)];

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync('env', [...cleanEnv(opts.env), cmd, ...args], { encoding: 'utf8', cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
}

function build(version: string, out: string): { agent: string; hub: string } {
  const r = sh('bash', [join(REPO_ROOT, 'installers/build.sh'), '--no-compile', '--version', version, '--out', out]);
  if (r.status !== 0) throw new Error(`build.sh failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  const unpack = join(out, 'unpacked');
  mkdirSync(unpack, { recursive: true });
  for (const p of ['agent', 'hub']) {
    const x = sh('tar', ['-C', unpack, '-xzf', join(out, `sentinela-${p}-${version}-linux-${arch}.tar.gz`)]);
    if (x.status !== 0) throw new Error(x.stderr);
  }
  return { agent: join(unpack, `sentinela-agent-${version}-linux-${arch}`), hub: join(unpack, `sentinela-hub-${version}-linux-${arch}`) };
}

function install(bundle: string, args: string[] = []): SpawnSyncReturns<string> {
  return sh('bash', [join(bundle, 'install.sh'), '--root', ROOT, ...args]);
}

let uid = 0;
let gid = 0;
function ids(): void {
  const line = readFileSync(join(ROOT, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith('sentinela:'))!;
  [uid, gid] = line.split(':').slice(2, 4).map(Number) as [number, number];
}

const wrapper = (p: 'agent' | 'hub') => join(ROOT, 'usr/local/bin', `sentinela-${p}`);
const asSentinela = (p: 'agent' | 'hub', args: string[]) => ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', wrapper(p), ...args];

/** Runs the installed CLI as the sentinela user, to completion. */
function cli(p: 'agent' | 'hub', args: string[]): SpawnSyncReturns<string> {
  return sh('setpriv', asSentinela(p, args), { env: { HOME: '/nonexistent' } });
}

/** Starts the installed program as the sentinela user; lines of output are collected. */
function start(p: 'agent' | 'hub', args: string[]) {
  const child = spawn('env', [...cleanEnv({ HOME: '/nonexistent' }), 'setpriv', ...asSentinela(p, args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  for (const s of [child.stdout, child.stderr]) {
    let rest = '';
    s.setEncoding('utf8').on('data', (d: string) => {
      const parts = (rest + d).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts.filter(Boolean));
    });
  }
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const log = () => lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
  return {
    lines,
    log,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
async function hubReady(hub: ReturnType<typeof start>): Promise<Record<string, unknown>> {
  try {
    return await waitFor('hub ready', () => hub.log().find((l) => l.msg === 'hub ready'), 60_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}; the hub said:\n${hub.lines.slice(-20).join('\n')}`);
  }
}
const running: Array<{ stop: () => Promise<unknown> }> = [];
t.teardown(async () => {
  for (const r of running) await r.stop();
});

const HUB_CONFIG = join(ROOT, 'etc/sentinela/hub.yaml');
const AGENT_CONFIG = join(ROOT, 'etc/sentinela/agent.yaml');
const HUB_DATA = join(ROOT, 'var/lib/sentinela/hub');
const AGENT_DATA = join(ROOT, 'var/lib/sentinela/agent');
const SOURCE_DIR = join(dir.path, 'clinic-files');
const siteId = uniqueSiteId('hf-install');

function hubCounts() {
  const db = new Database(join(HUB_DATA, 'hub.db'), { readonly: true, fileMustExist: true });
  try {
    const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      schema: db.pragma('user_version', { simple: true }) as number,
      sites: n('SELECT count(*) AS n FROM sites'),
      messages: n('SELECT count(*) AS n FROM messages'),
      apiTokens: n('SELECT count(*) AS n FROM api_tokens'),
    };
  } finally {
    db.close();
  }
}

function agentCounts() {
  const status = cli('agent', ['status', '--config', AGENT_CONFIG, '--json']);
  if (status.status !== 0) throw new Error(status.stderr);
  const s = JSON.parse(status.stdout) as { enrolled: boolean; outbox: { pending: number } };
  const snaps = readdirSync(join(AGENT_DATA, 'repository/snapshots')).filter((f) => !f.startsWith('.'));
  return { enrolled: s.enrolled, pending: s.outbox.pending, snapshots: snaps.sort() };
}

let b1: { agent: string; hub: string };
let b2: { agent: string; hub: string };
let hubMigrations = 0;
let outboxSchema = 0;
const outboxVersion = () => {
  const db = new Database(join(AGENT_DATA, 'outbox.db'), { readonly: true, fileMustExist: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
};

t.test(`build release ${V1} and ${V2} (one more schema migration in each program)`, async (t) => {
  b1 = build(V1, join(dir.path, 'b1'));
  b2 = build(V2, join(dir.path, 'b2'));
  for (const b of [b1.agent, b1.hub, b2.agent, b2.hub]) {
    t.ok(existsSync(join(b, 'app/node_modules/better-sqlite3/build/Release/better_sqlite3.node')), `${b}: native addon`);
    t.notOk(existsSync(join(b, 'app/node_modules/typescript')), 'no dev dependencies');
    t.match(readFileSync(join(b, 'README.md'), 'utf8'), /Node\.js \d+, version [\d.]+ or newer/);
  }
  t.ok(existsSync(join(b1.hub, 'app/packages/hub/dist/console/static/app.css')), "the hub's console assets come along, in dist/");
  t.notOk(existsSync(join(b1.hub, 'app/packages/hub/src')), 'no sources in the bundle');
  t.notOk(existsSync(join(b1.agent, 'app/node_modules/aedes')), "the agent bundle has none of the hub's dependencies");
  const archive = statSync(join(dir.path, 'b1', `sentinela-agent-${V1}-linux-${arch}.tar.gz`)).size;
  t.comment(`agent bundle ${(archive / 1e6).toFixed(1)} MB, hub bundle ${(statSync(join(dir.path, 'b1', `sentinela-hub-${V1}-linux-${arch}.tar.gz`)).size / 1e6).toFixed(1)} MB`);
  // Release N+1: one more migration in each program, at the end of the list as a release adds it.
  appendFileSync(
    join(b2.hub, 'app/packages/hub/dist/database.js'),
    "\n// test/install.test.ts: the next release's migration\nMIGRATIONS.push((db) => db.exec('CREATE TABLE release_marker (release TEXT NOT NULL) STRICT'));\n",
  );
  // The outbox schema lives twice in the agent: its module (the service) and the bundled CLI's chunk (tools/bundle-agent.mjs).
  const agentDist = join(b2.agent, 'app/packages/agent/dist');
  const bundle = join(agentDist, 'bundle');
  const schemaFiles = [join(agentDist, 'outbox/schema.js'), ...readdirSync(bundle).filter((f) => f.endsWith('.mjs')).map((f) => join(bundle, f))];
  let patched = 0;
  for (const file of schemaFiles) {
    const text = readFileSync(file, 'utf8');
    const m = /(export const|var) SCHEMA_VERSION = (MIGRATIONS\d*)\.length;/.exec(text);
    if (!m) continue;
    writeFileSync(file, text.replace(m[0], `${m[2]}.push((db) => db.exec('CREATE TABLE release_marker (release TEXT NOT NULL) STRICT'));\n${m[0]}`));
    patched++;
  }
  t.equal(patched, 2, "the next release's outbox migration added to the service's module and to the bundled CLI");
  hubMigrations = (await import(join(REPO_ROOT, 'packages/hub/dist/database.js'))).MIGRATIONS.length as number;
  outboxSchema = (await import(join(REPO_ROOT, 'packages/agent/dist/outbox/schema.js'))).SCHEMA_VERSION as number;
  t.ok(hubMigrations >= 1 && outboxSchema >= 1, `release ${V1}: hub schema ${hubMigrations}, outbox schema ${outboxSchema}`);
});

t.test(`install ${V1} into a temporary root`, async (t) => {
  const bad = install(b1.agent, ['--node', '/nonexistent/node']);
  t.not(bad.status, 0, 'no Node.js: refused');
  t.match(bad.stderr, /Node\.js not found/);

  for (const b of [b1.hub, b1.agent]) {
    const r = install(b);
    t.equal(r.status, 0, `${b}: install.sh exit 0\n${r.stderr}`);
  }
  ids();
  t.ok(uid > 0 && gid > 0, `system user sentinela (${uid}:${gid})`);
  for (const p of ['agent', 'hub'] as const) {
    t.equal(readlinkSync(join(ROOT, 'opt/sentinela', p, 'current')), V1, `${p}: current → ${V1}`);
    const cfg = statSync(join(ROOT, 'etc/sentinela', `${p}.yaml`));
    t.equal(cfg.mode & 0o777, 0o640, `${p}.yaml mode 0640`);
    t.same([cfg.uid, cfg.gid], [0, gid], `${p}.yaml root:sentinela`);
    const data = statSync(join(ROOT, 'var/lib/sentinela', p));
    t.equal(data.mode & 0o777, 0o750, `data folder of ${p} 0750`);
    t.same([data.uid, data.gid], [uid, gid], `data folder of ${p} owned by sentinela`);
    const unit = readFileSync(join(ROOT, `etc/systemd/system/sentinela-${p}.service`), 'utf8');
    for (const k of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'ProtectHome=yes', 'Restart=on-failure', 'User=sentinela', 'RestrictAddressFamilies=']) t.match(unit, k, `${p} unit: ${k}`);
    t.equal(sh(wrapper(p), ['--version']).stdout.trim(), V1, `sentinela-${p} --version`);
  }
  const unit = readFileSync(join(ROOT, 'etc/systemd/system/sentinela-agent.service'), 'utf8');
  t.match(unit, /ReadWritePaths=-\/media -\/mnt -\/run\/media/, 'USB disks under /media and /mnt are writable by the agent');
  // The example config has power: → exactly its commands in the polkit rule.
  const rule = readFileSync(join(ROOT, 'etc/polkit-1/rules.d/50-sentinela-agent.rules'), 'utf8');
  t.match(rule, /"openmrs\.service", "mariadb\.service"/, 'the pre-shutdown units of the config, and no others');
  t.match(rule, /org\.freedesktop\.login1\.power-off/);
  t.doesNotThrow(() => new Function('polkit', rule), 'the polkit rule is valid JavaScript');

  // systemd-analyze verify on the installed units, with this machine's systemd unit tree in the root.
  if (existsSync('/usr/lib/systemd/system/sysinit.target') && sh('systemd-analyze', ['--version']).status === 0) {
    cpSync('/usr/lib/systemd/system', join(ROOT, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
    const v = sh('systemd-analyze', ['verify', `--root=${ROOT}`, 'sentinela-agent.service', 'sentinela-hub.service']);
    t.equal(v.status, 0, `systemd-analyze verify: ${v.stderr}`);
  } else t.comment('systemd-analyze not on this machine: units not verified here (installers/test-chroot.sh does)');
});

t.test(`real data under ${V1}: a hub with a site and messages, an enrolled agent with a queue and snapshots`, async (t) => {
  mkdirSync(SOURCE_DIR, { recursive: true, mode: 0o755 });
  for (let i = 0; i < 5; i++) writeFileSync(join(SOURCE_DIR, `record-${i}.txt`), `patient ${i}\n`.repeat(200), { mode: 0o644 });
  writeFileSync(
    HUB_CONFIG,
    stringify({ hubId: 'install-test', dataDir: HUB_DATA, mqtt: { listen: { host: '127.0.0.1', port: 0 }, allowPlaintext: true }, http: { listen: { host: '127.0.0.1', port: 0 } } }),
  );
  const hub = start('hub', ['serve', '--config', HUB_CONFIG]);
  running.push(hub);
  const ready = await hubReady(hub);
  const httpUrl = `http://127.0.0.1:${ready.httpPort}`;
  // The console is served from the installed release: its pages and its static files.
  const login = await fetch(`${httpUrl}/login`);
  t.equal(login.status, 200, 'GET /login');
  t.match(await login.text(), 'id="login-form"', 'the login form');
  const css = await fetch(`${httpUrl}/assets/app.css`);
  t.equal(css.status, 200, 'GET /assets/app.css');
  t.equal(await css.text(), readFileSync(join(REPO_ROOT, 'packages/hub/src/console/static/app.css'), 'utf8'), "the console's stylesheet, as in the tree");
  const add = cli('hub', ['sites', 'add', '--config', HUB_CONFIG, '--id', siteId, '--name', 'CS Instalação', '--json']);
  t.equal(add.status, 0, add.stderr);
  t.equal(cli('hub', ['tokens', 'add', '--config', HUB_CONFIG, '--name', 'console']).status, 0, 'an API token');
  const token = (JSON.parse(add.stdout) as { token: string }).token;

  writeFileSync(
    AGENT_CONFIG,
    stringify({
      dataDir: AGENT_DATA,
      hub: { mqttUrl: `mqtt://127.0.0.1:${ready.mqttPort}`, reconnectSeconds: 1 },
      sampling: { intervalSeconds: 1 },
      backup: { sources: [{ name: 'records', kind: 'files', path: SOURCE_DIR }] },
    }),
  );
  // Enrolment at install: the same release again, with --hub and --token.
  const enrol = install(b1.agent, ['--hub', httpUrl, '--token', token]);
  t.equal(enrol.status, 0, `install.sh --hub --token: ${enrol.stderr}`);
  const cred = statSync(join(AGENT_DATA, 'credentials.json'));
  t.equal(cred.mode & 0o777, 0o600, 'credentials 0600');
  t.equal(cred.uid, uid, 'written by the sentinela user');
  t.notOk(existsSync(join(ROOT, 'etc/polkit-1/rules.d/50-sentinela-agent.rules')), 'no power: section, no power rights');

  for (const n of [1, 2]) {
    const b = cli('agent', ['backup', '--config', AGENT_CONFIG, '--json']);
    t.equal(b.status, 0, `backup ${n}: ${b.stderr}`);
    writeFileSync(join(SOURCE_DIR, `record-new-${n}.txt`), `patient new ${n}\n`);
  }
  // The agent delivers to the hub, then the hub goes away and the agent queues.
  const agent = start('agent', ['run', '--config', AGENT_CONFIG]);
  running.push(agent);
  await waitFor('messages stored at the hub', () => hubCounts().messages >= 5, 60_000, 250);
  await hub.stop();
  await waitFor('messages queued while the hub is down', () => agentCounts().pending >= 10, 60_000, 250);
  await agent.stop();
});

let before: { hub: ReturnType<typeof hubCounts>; agent: ReturnType<typeof agentCounts> };

t.test(`upgrade to ${V2} keeps config, queue, snapshots and hub rows; the hub schema migrates`, async (t) => {
  before = { hub: hubCounts(), agent: agentCounts() };
  t.comment(`before: ${JSON.stringify(before)}`);
  t.equal(before.hub.schema, hubMigrations, `release ${V1} left the hub database at schema ${hubMigrations}`);
  t.equal(outboxVersion(), outboxSchema, `and the outbox at schema ${outboxSchema}`);
  t.ok(before.agent.pending >= 10 && before.agent.snapshots.length >= 2 && before.hub.messages >= 5);
  const configs = { agent: readFileSync(AGENT_CONFIG, 'utf8'), hub: readFileSync(HUB_CONFIG, 'utf8') };

  for (const b of [b2.hub, b2.agent]) {
    const r = install(b);
    t.equal(r.status, 0, `${b}: ${r.stderr}`);
    t.match(r.stdout, `upgrading from ${V1} to ${V2}`);
  }
  for (const p of ['agent', 'hub'] as const) {
    t.equal(readlinkSync(join(ROOT, 'opt/sentinela', p, 'current')), V2, `${p}: current → ${V2}`);
    t.equal(readlinkSync(join(ROOT, 'opt/sentinela', p, 'previous')), V1, `${p}: previous → ${V1} (kept for a rollback)`);
    t.equal(sh(wrapper(p), ['--version']).stdout.trim(), V2);
  }
  t.same({ agent: readFileSync(AGENT_CONFIG, 'utf8'), hub: readFileSync(HUB_CONFIG, 'utf8') }, configs, 'configs untouched');
  t.same(agentCounts(), before.agent, 'the same queued messages and snapshots, as read by the new agent');
  t.equal(outboxVersion(), outboxSchema + 1, `the new agent migrated the outbox to schema ${outboxSchema + 1}`);

  // The new hub migrates at start, over the rows release N wrote.
  const hub = start('hub', ['serve', '--config', HUB_CONFIG]);
  running.push(hub);
  await hubReady(hub);
  await hub.stop();
  const after = hubCounts();
  t.comment(`after: ${JSON.stringify({ hub: after, agent: agentCounts() })}`);
  t.equal(after.schema, hubMigrations + 1, `migrated forward to schema ${hubMigrations + 1}`);
  t.same({ ...after, schema: 0 }, { ...before.hub, schema: 0 }, 'every site, message and token kept');

  const snap = before.agent.snapshots[0]!;
  const out = join(dir.path, 'restored');
  mkdirSync(out);
  chownSync(out, uid, gid);
  const r = cli('agent', ['restore', '--config', AGENT_CONFIG, '--snapshot', snap, '--to-dir', out]);
  // The restore target must be writable by the sentinela user.
  t.equal(r.status, 0, `a snapshot of ${V1} restores with ${V2}: ${r.stderr}`);
});

t.test(`installing ${V1} over ${V2} is refused; with --force the older hub refuses the newer database`, async (t) => {
  const r = install(b1.hub);
  t.not(r.status, 0, 'downgrade refused');
  t.match(r.stderr, `${V2} is installed, newer than this bundle (${V1})`);
  t.equal(readlinkSync(join(ROOT, 'opt/sentinela/hub/current')), V2, 'nothing changed');

  const forced = install(b1.hub, ['--force']);
  t.equal(forced.status, 0, forced.stderr);
  const serve = cli('hub', ['serve', '--config', HUB_CONFIG]);
  t.not(serve.status, 0, `the ${V1} hub does not start`);
  t.match(serve.stdout + serve.stderr, /newer than this hub knows/);
  const doc = cli('hub', ['doctor', '--config', HUB_CONFIG, '--json']);
  t.equal(doc.status, 1, 'doctor fails');
  const findings = (JSON.parse(doc.stdout) as { findings: Array<{ id: string; level: string }> }).findings;
  t.equal(findings.find((f) => f.id === 'db.schema')?.level, 'FAIL', 'doctor names the schema');
  t.same(hubCounts(), { ...before.hub, schema: hubMigrations + 1 }, 'and the data is intact');

  t.equal(install(b1.agent, ['--force']).status, 0, `agent ${V1} forced`);
  const status = cli('agent', ['status', '--config', AGENT_CONFIG]);
  t.not(status.status, 0, `the ${V1} agent refuses the outbox`);
  t.match(status.stderr, /newer than this agent understands/);
  const adoc = cli('agent', ['doctor', '--config', AGENT_CONFIG, '--json']);
  const afindings = (JSON.parse(adoc.stdout) as { findings: Array<{ id: string; level: string }> }).findings;
  t.equal(afindings.find((f) => f.id === 'outbox.schema')?.level, 'FAIL', 'agent doctor names the outbox schema');

  for (const b of [b2.hub, b2.agent]) t.equal(install(b).status, 0, `back to ${V2}`);
  t.equal(cli('hub', ['doctor', '--config', HUB_CONFIG, '--json']).status, 0, 'hub doctor is happy again');
  t.same(agentCounts(), before.agent, 'the queue and snapshots are all there');
});

t.test('uninstall keeps config and data; --purge removes them', async (t) => {
  const r = install(b2.agent, ['--uninstall']);
  t.equal(r.status, 0, r.stderr);
  t.notOk(existsSync(join(ROOT, 'opt/sentinela/agent')), 'program removed');
  t.notOk(existsSync(wrapper('agent')), 'wrapper removed');
  t.notOk(existsSync(join(ROOT, 'etc/systemd/system/sentinela-agent.service')), 'unit removed');
  t.ok(existsSync(AGENT_CONFIG), 'config kept');
  t.ok(existsSync(join(AGENT_DATA, 'outbox.db')) && existsSync(join(AGENT_DATA, 'credentials.json')), 'data kept');

  // Reinstalling finds everything where it was.
  t.equal(install(b2.agent).status, 0);
  t.same(agentCounts(), before.agent, 'the queue and snapshots are back with the program');

  // A purge with the agent still running (no systemd here to stop it) would see the folder written
  // again behind it: refused, naming the process, before anything is removed.
  const agent = start('agent', ['run', '--config', AGENT_CONFIG]);
  running.push(agent);
  await waitFor('the agent ready, its outbox open', () => agent.log().find((l) => l.msg === 'agent ready'), 60_000);
  const busy = install(b2.agent, ['--uninstall', '--purge']);
  t.not(busy.status, 0, 'purge refused while the agent runs');
  t.match(busy.stderr, `still use ${AGENT_DATA}`);
  t.match(busy.stderr, /sentinela-agent\.js run/, 'the error names the process');
  t.ok(existsSync(join(AGENT_DATA, 'outbox.db')) && existsSync(AGENT_CONFIG), 'nothing was removed');
  t.ok(existsSync(wrapper('agent')), 'not even the program');
  await agent.stop();

  const p = install(b2.agent, ['--uninstall', '--purge']);
  t.equal(p.status, 0, p.stderr);
  t.match(p.stdout, `purged ${AGENT_CONFIG} and ${AGENT_DATA}`);
  t.notOk(existsSync(AGENT_CONFIG), 'config purged');
  t.notOk(existsSync(AGENT_DATA), `data purged${existsSync(AGENT_DATA) ? ` (still there: ${readdirSync(AGENT_DATA).join(' ')})` : ''}`);
  t.ok(existsSync(join(HUB_DATA, 'hub.db')), "the hub's data is not the agent's to purge");
  t.match(readFileSync(join(ROOT, 'etc/passwd'), 'utf8'), /^sentinela:/m, 'the user stays while the hub is installed');
  t.equal(install(b2.hub, ['--uninstall', '--purge']).status, 0);
  t.notMatch(readFileSync(join(ROOT, 'etc/passwd'), 'utf8'), /^sentinela:/m, 'the last purge removes the user');
});
