/**
 * The power watch against a real upsd (Debian's nut-server) with its dummy-ups driver, driven by
 * rewriting the driver's .dev file. Agents run in this process (startAgent); the only fake is the
 * power-off command: a script that records its calls. The hub URL points at a closed port: events
 * stay in each agent's outbox and are read from its log lines.
 */
import t, { type Test } from 'tap';
import { appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentConfig } from '@sentinela/shared';
import { collectStatus, formatStatus, NutClient, NutError, PowerStore, provideFinalBackup, startAgent, writeCredentials, type FinalBackup, type RunningAgent } from '@sentinela/agent';
import { capturedLogger } from '@sentinela/tools/harness/log.js';
import { nutAsk, NutServer, NUT_USERS } from '@sentinela/tools/harness/nut.js';
import { freePort } from '@sentinela/tools/harness/tcp.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { sleep, waitFor } from '@sentinela/tools/harness/wait.js';

type Line = Record<string, unknown> & { code?: string; msg?: string; level?: string };

interface Rig {
  agent: RunningAgent;
  lines: Line[];
  calls: () => string[];
  events: (code: string) => Line[];
  dataDir: string;
  config: AgentConfig;
}

/** A test FinalBackup: records its calls in the shared calls file and takes `ms`. */
class RecordingBackup implements FinalBackup {
  runs = 0;
  constructor(private readonly estimate: number | null, private readonly ms: number, private readonly file: string) {}
  estimateSeconds(): number | null {
    return this.estimate;
  }
  async run(signal: AbortSignal): Promise<void> {
    this.runs++;
    appendFileSync(this.file, 'backup start\n');
    await sleep(this.ms);
    if (signal.aborted) throw new Error('aborted');
    appendFileSync(this.file, 'backup done\n');
  }
}

async function startRig(t: Test, dir: string, name: string, nut: NutServer, power: Record<string, unknown>, backup?: (callsFile: string) => FinalBackup): Promise<Rig> {
  const dataDir = join(dir, name);
  const callsFile = join(dir, 'calls.log');
  const script = join(dir, `poweroff-${name}.sh`);
  writeFileSync(script, `#!/bin/sh\necho "poweroff ${name}" >> ${callsFile}\n`);
  chmodSync(script, 0o755);
  writeCredentials(join(dataDir, 'credentials.json'), { siteId: `hf-${name}`, username: `hf-${name}`, password: 'p', hubHttpUrl: 'http://x', enrolledAt: new Date().toISOString() });
  const role = (power.role as string) ?? 'primary';
  const user = role === 'primary' ? 'primary' : 'secondary';
  const config = AgentConfig.parse({
    dataDir,
    hub: { mqttUrl: `mqtt://127.0.0.1:${await freePort()}`, reconnectSeconds: 3600 },
    sampling: { intervalSeconds: 3600 },
    power: {
      source: { kind: 'nut', host: '127.0.0.1', port: nut.port, ups: nut.ups, username: NUT_USERS[user].username, passwordFile: nut.passwordFile(user), timeoutSeconds: 2 },
      pollSeconds: 0.5,
      debounceSeconds: 1,
      graceSeconds: 600,
      deadtimeSeconds: 2,
      lowBattery: { persistSeconds: 0 },
      secondaryWaitSeconds: 20,
      shutdownCommand: [script],
      ...power,
    },
  });
  if (backup) provideFinalBackup(config, backup(callsFile));
  const { logger, lines: logged } = capturedLogger(name);
  const lines = logged as Line[];
  const agent = await startAgent(config, logger);
  t.teardown(() => agent.close());
  return {
    agent,
    lines,
    dataDir,
    config,
    calls: () => (existsSync(callsFile) ? readFileSync(callsFile, 'utf8').split('\n').filter(Boolean) : []),
    events: (code) => lines.filter((l) => l.code === code),
  };
}

async function nut(t: Test, vars?: Record<string, string | number>, opts?: { maxAge?: number; pollInterval?: number }): Promise<NutServer> {
  const n = await new NutServer(vars, opts).start();
  t.teardown(() => n.stop());
  return n;
}

const eventually = (what: string, cond: () => unknown, ms = 20_000) => waitFor(what, cond, ms, 100);
const powerOf = (r: Rig) => (r.agent.modules.find((m) => m.name === 'power')!.status!() as { power: Record<string, unknown> & { state: string } }).power;
const source = (n: NutServer, user: keyof typeof NUT_USERS, passwordFile = n.passwordFile(user)) => ({ kind: 'nut', host: '127.0.0.1', port: n.port, ups: n.ups, username: NUT_USERS[user].username, passwordFile, timeoutSeconds: 2 });

t.test('the NUT client against the real upsd: lists, values, logins and each error told apart', async (t) => {
  const n = await nut(t, { 'ups.status': 'OL', 'battery.charge': 97, 'battery.runtime': 1500 }, { maxAge: 5 });
  const c = await NutClient.connect('127.0.0.1', n.port);
  t.teardown(() => c.close());
  t.same(await c.listUps(), [{ name: 'fake', description: 'test UPS' }]);
  const vars = await c.listVar('fake');
  t.equal(vars['ups.status'], 'OL');
  t.equal(vars['battery.charge'], '97');
  t.equal(await c.getVar('fake', 'battery.runtime'), '1500');
  await t.rejects(c.getVar('nope', 'ups.status'), { code: 'UNKNOWN-UPS' });
  await t.rejects(c.getVar('fake', 'no.such'), { code: 'VAR-NOT-SUPPORTED' });
  await c.authenticate(NUT_USERS.primary.username, NUT_USERS.primary.password);
  await c.login('fake');
  t.equal(await c.numLogins('fake'), 1);
  t.same(await c.listCmd('fake'), ['load.off']);
  const err = await c.instcmd('fake', 'shutdown.return').catch((e: unknown) => e);
  t.ok(err instanceof NutError && err.code === 'CMD-NOT-SUPPORTED', 'an unsupported instant command is ERR CMD-NOT-SUPPORTED');
  const viewer = await NutClient.connect('127.0.0.1', n.port);
  t.teardown(() => viewer.close());
  await viewer.authenticate(NUT_USERS.viewer.username, NUT_USERS.viewer.password);
  await t.rejects(viewer.fsd('fake'), { code: 'ACCESS-DENIED' }, 'FSD needs a user allowed to set it');

  n.freezeDriver(true);
  await eventually('DATA-STALE once the driver stops updating (MAXAGE 5 s)', () => c.getVar('fake', 'ups.status').then(() => false, (e: NutError) => e.code === 'DATA-STALE'));
  n.freezeDriver(false);
  await n.stopDriver();
  await eventually('DRIVER-NOT-CONNECTED', () => c.getVar('fake', 'ups.status').then(() => false, (e: NutError) => e.code === 'DRIVER-NOT-CONNECTED'));
  await n.stopUpsd();
  await t.rejects(c.getVar('fake', 'ups.status'), { name: 'NutConnectionError' }, 'a lost upsd is a connection error, not an ERR');
});

t.test('on battery for less than the grace and back: no shutdown, one outage recorded', async (t) => {
  const dir = tempDir('pw-short');
  t.teardown(dir.remove);
  const n = await nut(t);
  const r = await startRig(t, dir.path, 'a', n, { graceSeconds: 30 });
  await n.set({ 'ups.status': 'OB DISCHRG', 'battery.charge': 81 });
  await eventually('power.on_battery', () => r.events('power.on_battery').length === 1);
  await n.set({ 'battery.charge': 74 });
  await eventually('the lower charge seen', () => (r.agent.modules.find((m) => m.name === 'power')!.status!() as { power: { charge: number } }).power.charge === 74);
  // issue 18 item 9: `status` (another process, no local page) shows the power line and --json has the section
  const report = collectStatus(r.config);
  t.match(report.power, { watch: 'on', state: 'battery', savedAt: /^\d{4}-/ });
  t.match(formatStatus(report), /^power\s+ON BATTERY, charge (81|74) %, runtime 30 min, shutdown due \S+ \(nut fake@127\.0\.0\.1:\d+, as of /m);
  await n.set({ 'ups.status': 'OL CHRG' });
  await eventually('power.restored', () => r.events('power.restored').length === 1);
  const outage = r.events('power.restored')[0]!.outage as { durationSec: number; lowestCharge: number; shutdown: boolean };
  t.equal(outage.shutdown, false);
  t.equal(outage.lowestCharge, 74);
  t.ok(outage.durationSec >= 1 && outage.durationSec < 30, `duration ${outage.durationSec} s`);
  t.same(r.calls(), [], 'no shutdown');
  await r.agent.close();
  const store = new PowerStore(join(r.dataDir, 'power.db'));
  t.equal(store.recent().length, 1, 'one outage on disk');
  store.close();
});

t.test('past the grace: exactly one shutdown after the final backup; the UPS is asked to cycle its outlets; after the reboot the outage is closed and the old FSD ignored', async (t) => {
  const dir = tempDir('pw-grace');
  t.teardown(dir.remove);
  const n = await nut(t);
  const r = await startRig(t, dir.path, 'a', n, { graceSeconds: 3, outletCommands: ['shutdown.return', 'load.off.delay'] }, (f) => new RecordingBackup(2, 300, f));
  await n.set({ 'ups.status': 'OB DISCHRG', 'battery.charge': 60, 'battery.runtime': 1200 });
  await eventually('the shutdown command ran', () => r.calls().some((c) => c.startsWith('poweroff')));
  await eventually('power.shutdown', () => r.events('power.shutdown').length === 1);
  t.same(r.calls(), ['backup start', 'backup done', 'poweroff a'], 'final backup first, then the shutdown command');
  t.equal(r.events('power.shutdown')[0]!.reason, 'grace');
  t.equal(r.events('power.final_backup').length, 1);
  // dummy-ups offers only the immediate load.off (refused by the config): both delayed commands are refused by the UPS
  await eventually('the outlet commands tried', () => r.events('power.outlets_unsupported').length === 1);
  t.match(r.events('power.outlets_refused').map((e) => e.msg), [/\(shutdown\.return\): the UPS \(its driver\) does not support/, /\(load\.off\.delay\): the UPS \(its driver\) does not support/]);
  t.match(r.events('power.outlets_unsupported')[0]!, { cause: 'refused', msg: /The UPS refused every outlet command/ });
  const at = (pred: (l: Line) => boolean) => r.lines.findIndex(pred);
  t.ok(at((l) => l.msg?.includes('the halt is under way') === true) < at((l) => l.code === 'power.outlets_refused'), 'issue 18 item 9: the outlet commands go once the halt is scheduled');
  t.equal(await n.status(), 'FSD OB DISCHRG', 'as primary it raised FSD');
  await r.agent.close();
  t.same(r.calls().filter((c) => c.startsWith('poweroff')), ['poweroff a'], 'exactly one shutdown');

  // Mains returns, the host boots again: upsd still has FSD latched.
  await n.set({ 'ups.status': 'OL CHRG', 'battery.charge': 62 }, false);
  await n.waitStatus((s) => s === 'FSD OL CHRG');
  await sleep(2000); // the server stays off a while
  const again = await startRig(t, dir.path, 'a', n, { graceSeconds: 3 });
  await eventually('power.restored after the reboot', () => again.events('power.restored').length === 1);
  const o = again.events('power.restored')[0]!.outage as { shutdown: boolean; start: string; end: string; durationSec: number; serverOffSec: number };
  t.equal(o.shutdown, true, 'the outage says a shutdown happened');
  t.ok(o.serverOffSec >= 2, `the server was off ${o.serverOffSec} s (from the halt to the agent's restart)`);
  const span = (Date.parse(o.end) - Date.parse(o.start)) / 1000;
  t.ok(Math.abs(o.durationSec + o.serverOffSec - span) <= 1, `time on battery ${o.durationSec} s leaves out the time off (span ${span} s)`);
  t.match(again.events('power.restored')[0]!.msg, /shut down and off for \d+ s/);
  await eventually('the latched FSD noticed', () => again.events('power.fsd_latched').length === 1);
  await sleep(2000); // a few more polls, time for a wrong second shutdown to show
  t.same(again.calls().filter((c) => c.startsWith('poweroff')), ['poweroff a'], 'no second shutdown on the old FSD');
});

t.test('OB then LB: immediate shutdown; too little runtime: no final backup', async (t) => {
  const dir = tempDir('pw-lb');
  t.teardown(dir.remove);
  const n = await nut(t);
  const backup = { b: null as RecordingBackup | null };
  const r = await startRig(t, dir.path, 'a', n, { lowBattery: { persistSeconds: 0, runtimeSeconds: 60 } }, (f) => (backup.b = new RecordingBackup(100, 300, f)));
  await n.set({ 'ups.status': 'OB DISCHRG', 'battery.charge': 30, 'battery.runtime': 200 });
  await eventually('power.on_battery', () => r.events('power.on_battery').length === 1);
  t.same(r.calls(), []);
  await n.set({ 'ups.status': 'OB LB' }, false);
  await eventually('the shutdown command ran', () => r.calls().length > 0);
  t.same(r.calls(), ['poweroff a'], 'shutdown at once, no backup');
  t.equal(backup.b!.runs, 0);
  t.equal(r.events('power.shutdown')[0]!.reason, 'low-battery');
  t.match(r.events('power.final_backup_skipped')[0]!.msg, /would need 150 s .* only 80 s/);
});

t.test('flapping OL/OB shorter than the debounce: no shutdown', async (t) => {
  const dir = tempDir('pw-flap');
  t.teardown(dir.remove);
  const n = await nut(t);
  const r = await startRig(t, dir.path, 'a', n, { debounceSeconds: 6, graceSeconds: 1 });
  for (let i = 0; i < 3; i++) {
    // each phase lasts about one driver poll (2 s), under the 6 s debounce
    await n.set({ 'ups.status': 'OB' });
    await n.set({ 'ups.status': 'OL' });
  }
  await eventually('flaps ignored', () => r.lines.filter((l) => l.msg?.includes('shorter than the debounce')).length >= 2);
  t.same(r.events('power.on_battery'), []);
  t.match(r.events('power.flapping'), [{ level: 'warn', count: 1, msg: /Mains power is unstable: 1 change between mains and battery shorter than the 6 s debounce/ }], 'issue 18 item 9: reported to the hub, once (rate-limited)');
  t.ok((powerOf(r).flaps as number) >= 2, `the status counts them: ${powerOf(r).flaps}`);
  t.same(r.calls(), [], 'no shutdown');
});

t.test('upsd unreachable: lost contact reported, no shutdown', async (t) => {
  const dir = tempDir('pw-lost');
  t.teardown(dir.remove);
  const n = await nut(t);
  const r = await startRig(t, dir.path, 'a', n, { graceSeconds: 1 });
  await eventually('first reading', () => (r.agent.modules.find((m) => m.name === 'power')!.status!() as { power: { state: string } }).power.state === 'mains');
  await n.stopUpsd();
  await eventually('power.contact_lost', () => r.events('power.contact_lost').length === 1);
  const ev = r.events('power.contact_lost')[0]!;
  t.equal(ev.level, 'warn');
  t.equal(ev.contact, 'unreachable');
  t.match(ev.msg, /last seen on mains, so the server keeps running/);
  const st = (r.agent.modules.find((m) => m.name === 'power')!.status!() as { power: { state: string; contact: string } }).power;
  t.same([st.state, st.contact], ['lost-contact', 'unreachable']);
  await n.startUpsd();
  await eventually('power.contact_restored', () => r.events('power.contact_restored').length === 1);
  t.same(r.calls(), [], 'no shutdown');
});

t.test('two agents on one upsd: the primary raises FSD and the secondary shuts down first', async (t) => {
  const dir = tempDir('pw-two');
  t.teardown(dir.remove);
  const n = await nut(t);
  const primary = await startRig(t, dir.path, 'primary', n, { role: 'primary', graceSeconds: 3 });
  const secondary = await startRig(t, dir.path, 'secondary', n, { role: 'secondary' });
  await eventually('both logged in', async () => (await nutAsk(n.port, ['GET NUMLOGINS fake']))[0] === 'NUMLOGINS fake 2');
  await n.set({ 'ups.status': 'OB DISCHRG', 'battery.charge': 70 });
  await eventually('both shut down', () => primary.calls().filter((c) => c.startsWith('poweroff')).length === 2, 30_000);
  t.same(primary.calls(), ['poweroff secondary', 'poweroff primary'], 'the secondary went first');
  t.equal(secondary.events('power.shutdown')[0]!.reason, 'fsd', 'the secondary acted on FSD');
  t.equal(primary.events('power.shutdown')[0]!.reason, 'grace', 'the primary went on its grace');
  t.equal(primary.events('power.shutdown')[0]!.secondariesLeft, 0, 'the primary waited for the secondary to log out');
});

t.test('issue 18 item 6: OB LB / OL LB alternating at 15 % shuts down (low battery), with the outage recorded', async (t) => {
  const dir = tempDir('pw-lbflap');
  t.teardown(dir.remove);
  const n = await nut(t, undefined, { pollInterval: 1 });
  // the defaults that let it through before: debounce 10 s, low battery held 5 s
  const r = await startRig(t, dir.path, 'a', n, { debounceSeconds: 10, lowBattery: { persistSeconds: 5 } });
  await eventually('first reading', () => powerOf(r).state === 'mains');
  for (let i = 0; i < 12 && r.calls().length === 0; i++) {
    await n.set({ 'ups.status': 'OB LB', 'battery.charge': 15, 'battery.runtime': 120 });
    await sleep(2500);
    await n.set({ 'ups.status': 'OL LB' });
    await sleep(1000);
  }
  await eventually('the shutdown command ran', () => r.calls().includes('poweroff a'));
  t.equal(r.events('power.shutdown')[0]!.reason, 'low-battery');
  t.match(r.events('power.on_battery'), [{ critical: true }], 'the outage was reported, once');
  await r.agent.close();
  const store = new PowerStore(join(r.dataDir, 'power.db'));
  t.match(store.open(), { end: null, shutdown: true }, 'the open outage is on disk');
  store.close();
});

t.test('issue 18 item 7: OB LB within the debounce: outage recorded, shutdown, power.restored after the reboot', async (t) => {
  const dir = tempDir('pw-early');
  t.teardown(dir.remove);
  const n = await nut(t);
  const r = await startRig(t, dir.path, 'a', n, { debounceSeconds: 10, lowBattery: { persistSeconds: 0 } });
  await eventually('first reading', () => powerOf(r).state === 'mains');
  await n.set({ 'ups.status': 'OB LB', 'battery.charge': 15, 'battery.runtime': 120 });
  await eventually('the shutdown command ran', () => r.calls().includes('poweroff a'));
  t.match(r.events('power.on_battery'), [{ critical: true, msg: /already critical, so the server shuts down now/ }]);
  const order = r.lines.filter((l) => l.code === 'power.on_battery' || l.code === 'power.shutdown_started').map((l) => l.code);
  t.same(order, ['power.on_battery', 'power.shutdown_started'], 'on battery first, then the shutdown');
  await r.agent.close();
  await n.set({ 'ups.status': 'OL CHRG', 'battery.charge': 20 });
  const again = await startRig(t, dir.path, 'a', n, { debounceSeconds: 10 });
  await eventually('power.restored after the reboot', () => again.events('power.restored').length === 1);
  t.match(again.events('power.restored')[0]!.outage, { shutdown: true, lowestCharge: 15 });
});

t.test('issue 18 item 8: upsd refuses the login (wrong password, no upsmon line): reported, and the UPS is still read and acted on', async (t) => {
  const dir = tempDir('pw-login');
  t.teardown(dir.remove);
  const n = await nut(t);
  const wrong = join(dir.path, 'wrong.password');
  writeFileSync(wrong, 'nope\n', { mode: 0o600 });
  const bad = await startRig(t, dir.path, 'bad', n, { source: source(n, 'primary', wrong) });
  const nomon = await startRig(t, dir.path, 'nomon', n, { role: 'secondary', source: source(n, 'nomon') });
  for (const [name, r] of [['wrong password', bad], ['no upsmon line', nomon]] as const) {
    await eventually(`${name}: power.login_failed`, () => r.events('power.login_failed').length === 1);
    t.match(r.events('power.login_failed')[0]!, { level: 'warn', msg: /refused the login of user (mon|nomon) to UPS fake \(ERR ACCESS-DENIED/ }, name);
    await eventually(`${name}: read anyway`, () => powerOf(r).state === 'mains');
    t.match(powerOf(r), { contact: 'ok', login: 'failed', loginMessage: /ACCESS-DENIED/ });
  }
  await n.set({ 'ups.status': 'OB LB', 'battery.charge': 10 });
  await eventually('both shut down on OB LB, like upsmon', () => bad.calls().filter((c) => c.startsWith('poweroff')).length === 2);
  t.match(bad.events('power.fsd_failed'), [{ msg: /Could not set FSD/ }], 'without a login the primary cannot raise FSD, and says so');
});

t.test('issue 18 item 8: a UPS never read (unknown name) is unknown, not "last seen on mains"', async (t) => {
  const dir = tempDir('pw-never');
  t.teardown(dir.remove);
  const n = await nut(t);
  const r = await startRig(t, dir.path, 'a', n, { source: { ...source(n, 'primary'), ups: 'nope' } });
  await eventually('power.contact_lost', () => r.events('power.contact_lost').length === 1);
  const ev = r.events('power.contact_lost')[0]!;
  t.match(ev, { contact: 'unknown-ups', neverSeen: true, msg: /not read the UPS once since it started: the power state is unknown/ });
  t.notMatch(ev.msg, /last seen on mains/);
  t.match(powerOf(r), { state: 'lost-contact', lastSeenAt: null });
});
