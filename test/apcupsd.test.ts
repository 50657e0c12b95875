/**
 * The power watch against a real apcupsd 3.14 (Debian's package, unpacked into a temp root, never
 * installed) running as a `UPSTYPE net` slave of a NIS master written in the test (tools/harness/apcupsd.ts).
 * The agent runs in this process (startAgent) and reads the real apcupsd's NIS port; the only fake is the
 * power-off command, a script that records its calls. The hub URL points at a closed port: events are
 * read from the agent's log lines.
 */
import t, { type Test } from 'tap';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentConfig } from '@sentinela/shared';
import { fetchApcupsdStatus, startAgent, writeCredentials, type RunningAgent } from '@sentinela/agent';
import { Apcupsd, NisMaster, unpackApcupsd, type ApcupsdLimits } from '@sentinela/tools/harness/apcupsd.js';
import { capturedLogger } from '@sentinela/tools/harness/log.js';
import { freePort } from '@sentinela/tools/harness/tcp.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';

type Line = Record<string, unknown> & { code?: string; msg?: string; level?: string };
type PowerStatus = Record<string, unknown> & { state: string; contact: string; charge: number | null };

const eventually = (what: string, cond: () => unknown, ms = 20_000) => waitFor(what, cond, ms, 100);

const unpacked = await unpackApcupsd();
t.teardown(unpacked.remove);

interface Rig {
  agent: RunningAgent;
  master: NisMaster;
  apcupsd: Apcupsd;
  lines: Line[];
  events: (code: string) => Line[];
  calls: () => string[];
  power: () => PowerStatus;
  /** What the real apcupsd itself reports on its NIS port. */
  apcStatus: () => Promise<string | undefined>;
}

/** A master on mains, the real apcupsd slaved to it, and an agent watching that apcupsd. */
async function rig(t: Test, name: string, limits: ApcupsdLimits, power: Record<string, unknown>, beforeAgent?: (master: NisMaster, apcupsd: Apcupsd) => Promise<void>): Promise<Rig> {
  const dir = tempDir(`apc-${name}`);
  t.teardown(dir.remove);
  const master = await new NisMaster().start();
  t.teardown(() => master.stop());
  const apcupsd = new Apcupsd(unpacked.root, master, limits);
  t.teardown(() => apcupsd.stop());
  await apcupsd.start();
  await beforeAgent?.(master, apcupsd);

  const callsFile = join(dir.path, 'calls.log');
  const script = join(dir.path, 'poweroff.sh');
  writeFileSync(script, `#!/bin/sh\necho "poweroff" >> ${callsFile}\n`);
  chmodSync(script, 0o755);
  const dataDir = join(dir.path, 'agent');
  writeCredentials(join(dataDir, 'credentials.json'), { siteId: `apc-${name}`, username: `apc-${name}`, password: 'p', hubHttpUrl: 'http://x', enrolledAt: new Date().toISOString() });
  const config = AgentConfig.parse({
    dataDir,
    hub: { mqttUrl: `mqtt://127.0.0.1:${await freePort()}`, reconnectSeconds: 3600 },
    sampling: { intervalSeconds: 3600 },
    power: {
      source: { kind: 'apcupsd', host: '127.0.0.1', port: apcupsd.nisPort, timeoutSeconds: 2 },
      pollSeconds: 0.5,
      debounceSeconds: 1,
      graceSeconds: 600,
      deadtimeSeconds: 2,
      shutdownCommand: [script],
      ...power,
    },
  });
  const { logger, lines: logged } = capturedLogger(`apc-${name}`);
  const lines = logged as Line[];
  const agent = await startAgent(config, logger);
  t.teardown(() => agent.close());
  return {
    agent,
    master,
    apcupsd,
    lines,
    events: (code) => lines.filter((l) => l.code === code),
    calls: () => (existsSync(callsFile) ? readFileSync(callsFile, 'utf8').split('\n').filter(Boolean) : []),
    power: () => (agent.modules.find((m) => m.name === 'power')!.status!() as { power: PowerStatus }).power,
    apcStatus: async () => (await fetchApcupsdStatus('127.0.0.1', apcupsd.nisPort)).STATUS,
  };
}

/** apcupsd's own limits far below anything the tests reach, so only the agent decides. */
const APC_PATIENT: ApcupsdLimits = { batteryLevel: 5, minutes: 1 };

t.test('real apcupsd: on mains, a mains loss recorded as an outage, mains back; nothing shut down', async (t) => {
  const r = await rig(t, 'outage', APC_PATIENT, { lowBattery: { chargePercent: 20, runtimeSeconds: 60, persistSeconds: 0 } });
  await eventually('the agent on mains', () => r.power().state === 'mains');
  t.match(r.power(), { contact: 'ok', charge: 100, runtimeSec: 1800, inputVoltage: 230 }, 'charge, runtime (TIMELEFT in minutes) and line voltage as apcupsd serves them');
  t.match(await r.apcStatus(), /^ONLINE SLAVE\s*$/, 'apcupsd itself says ONLINE (a net slave adds SLAVE)');

  r.master.set({ status: 'ONBATT', charge: 81, minutes: 25 });
  await eventually('power.on_battery', () => r.events('power.on_battery').length === 1);
  t.match(await r.apcStatus(), /^ONBATT SLAVE/);
  await eventually('the lower charge seen through apcupsd', () => r.power().charge === 81);
  t.match(r.power(), { state: 'battery', runtimeSec: 1500 });
  t.ok(r.apcupsd.events().includes('onbattery'), `apcupsd saw the outage too (apccontrol events: ${r.apcupsd.events().join(', ')})`);

  r.master.set({ status: 'ONLINE', charge: 82, minutes: 26 });
  await eventually('power.restored', () => r.events('power.restored').length === 1);
  const outage = r.events('power.restored')[0]!.outage as { durationSec: number; lowestCharge: number; shutdown: boolean };
  t.match(outage, { shutdown: false, lowestCharge: 81 });
  t.equal(r.power().state, 'mains');
  t.same(r.calls(), [], 'the power-off command never ran');
  t.notOk(r.apcupsd.shutdownRequested, 'apcupsd did not shut the host down either');
});

t.test('real apcupsd: runtime under the agent\'s low-battery limit on battery runs the power-off command', async (t) => {
  const r = await rig(t, 'low', APC_PATIENT, { lowBattery: { chargePercent: 20, runtimeSeconds: 600, persistSeconds: 0 } });
  await eventually('the agent on mains', () => r.power().state === 'mains');
  r.master.set({ status: 'ONBATT', charge: 60, minutes: 8 });
  await eventually('the power-off command ran', () => r.calls().length === 1);
  const started = r.events('power.shutdown_started');
  t.equal(started.length, 1);
  t.match(started[0]!, { reason: 'low-battery', msg: /battery low on battery power \(charge 60%, runtime 480 s\)/ });
  t.equal(r.events('power.on_battery').length, 1, 'the outage was recorded before the shutdown');
  t.match(await r.apcStatus(), /^ONBATT SLAVE/, 'apcupsd, with its own lower limits, is not shutting down: the agent decided');
  t.notOk(r.apcupsd.shutdownRequested);
});

t.test('issue 18 item 9: real apcupsd reaching its own BATTERYLEVEL reports SHUTTING DOWN; the agent says apcupsd is shutting the host down', async (t) => {
  // apcupsd's limit (50 %) trips long before the agent's own (5 %, no runtime limit).
  const r = await rig(t, 'apcdown', { batteryLevel: 50, minutes: 1 }, { lowBattery: { chargePercent: 5, runtimeSeconds: 0, persistSeconds: 0 } });
  await eventually('the agent on mains', () => r.power().state === 'mains');
  r.master.set({ status: 'ONBATT', charge: 40, minutes: 20 });
  await eventually('apcupsd asked for the shutdown (its doshutdown)', () => r.apcupsd.shutdownRequested);
  t.equal(await r.apcStatus(), 'SHUTTING DOWN', 'the real apcupsd reports SHUTTING DOWN');
  t.ok(r.apcupsd.events().includes('loadlimit'), `apcupsd's reason: its battery level limit (apccontrol events: ${r.apcupsd.events().join(', ')})`);
  await eventually('the power-off command ran', () => r.calls().length === 1);
  const started = r.events('power.shutdown_started');
  t.equal(started.length, 1);
  t.match(started[0]!, { reason: 'fsd', msg: /apcupsd reports SHUTTING DOWN: apcupsd itself is shutting this host down/ });
  t.notMatch(started[0]!.msg, /primary or an operator/, 'not the NUT primary\'s forced shutdown');
  t.equal(r.events('power.on_battery').length, 1, 'the outage was recorded');
});

t.test('real apcupsd losing its master reports COMMLOST: the agent reports lost contact, never mains, and recovers', async (t) => {
  const r = await rig(t, 'commlost', APC_PATIENT, { graceSeconds: 1 });
  await eventually('the agent on mains', () => r.power().state === 'mains');
  const port = r.master.port;
  await r.master.stop();
  await eventually('apcupsd reports COMMLOST', async () => /^COMMLOST/.test((await r.apcStatus()) ?? ''));
  await eventually('power.contact_lost', () => r.events('power.contact_lost').length === 1);
  t.match(r.events('power.contact_lost')[0]!, { contact: 'stale', msg: /COMMLOST.*last seen on mains, so the server keeps running/ });
  t.match(r.power(), { state: 'lost-contact', contact: 'stale' }, 'not "mains"');
  await r.master.start(port);
  await eventually('power.contact_restored', () => r.events('power.contact_restored').length === 1);
  await eventually('the agent on mains again', () => r.power().state === 'mains');
  t.same(r.calls(), [], 'no shutdown');
});

t.test('real apcupsd already SHUTTING DOWN on battery when the agent starts: its STATFLAG still says ONBATT, so the agent shuts down too', async (t) => {
  // SHUTTING DOWN replaces every other word of apcupsd's STATUS; the agent (re)started during apcupsd's
  // shutdown must not take it for an old latch "while on mains" and ignore it.
  const r = await rig(t, 'late', { batteryLevel: 50, minutes: 1 }, { lowBattery: { chargePercent: 5, runtimeSeconds: 0, persistSeconds: 0 } }, async (master, apcupsd) => {
    master.set({ status: 'ONBATT', charge: 40, minutes: 20 });
    await eventually('apcupsd asked for the shutdown (its doshutdown)', () => apcupsd.shutdownRequested);
  });
  t.equal(await r.apcStatus(), 'SHUTTING DOWN');
  await eventually('the power-off command ran', () => r.calls().length === 1);
  t.match(r.events('power.shutdown_started'), [{ reason: 'fsd', msg: /apcupsd itself is shutting this host down/ }]);
  t.same(r.events('power.fsd_latched'), [], 'not ignored as an old latch');
  t.equal(r.events('power.on_battery').length, 1, 'the outage was recorded');
  t.match(r.power(), { flags: ['FSD', 'OB'] });
});
