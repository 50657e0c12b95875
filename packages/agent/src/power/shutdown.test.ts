/**
 * The shutdown sequence's outlet step. dummy-ups accepts no delayed outlet command, so the UPS's side
 * is a small UpsControl here (the boundary that cannot run); the shutdown command is a real script.
 */
import t from 'tap';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentConfig, parseConfigText, type Severity } from '@sentinela/shared';
import { NutConnectionError, NutError } from './nut-client.js';
import type { UpsControl } from './reading.js';
import { runShutdownSequence } from './shutdown.js';

const dir = mkdtempSync(join(tmpdir(), 'shutdown-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const log = join(dir, 'calls.log');
const ok = join(dir, 'poweroff-ok.sh');
writeFileSync(ok, `#!/bin/sh\necho poweroff >> ${log}\n`);
chmodSync(ok, 0o755);
const calls = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);

/** Answers INSTCMD with `answer(cmd)`: nothing (accepted) or an error. */
function ups(answer: (cmd: string) => Error | null, logins = 1): UpsControl {
  return {
    raiseFsd: async () => undefined,
    numLogins: async () => logins,
    instcmd: async (cmd) => {
      appendFileSync(log, `instcmd ${cmd}\n`);
      const err = answer(cmd);
      if (err) throw err;
    },
    logout: async () => undefined,
  };
}

async function run(control: UpsControl, power: Record<string, unknown>) {
  writeFileSync(log, '');
  const events: Array<{ code: string; severity: Severity; message: string; data?: Record<string, unknown> }> = [];
  const config = AgentConfig.parse({ dataDir: dir, hub: { mqttUrl: 'mqtt://127.0.0.1:1' }, power: { source: { kind: 'nut', ups: 'u' }, shutdownCommand: [ok], secondaryWaitSeconds: 0, finalBackup: { enabled: false }, ...power } }).power!;
  const noop = () => undefined;
  const logger = { info: noop, warn: noop, error: noop, debug: noop, child: () => logger } as never;
  const report = await runShutdownSequence({ config, control, finalBackup: null, runtimeSec: 600, halting: noop, event: (code, severity, message, data) => events.push({ code, severity, message, ...(data ? { data } : {}) }), logger }, 'grace', 'test');
  return { report, events, code: (c: string) => events.filter((e) => e.code === c) };
}

t.test('issue 18 item 9: an immediate load.off is refused at config load, naming the key', async (t) => {
  const text = 'dataDir: /tmp/x\nhub: { mqttUrl: "mqtt://127.0.0.1:1" }\npower:\n  source: { kind: nut, ups: u }\n  outletCommands: [shutdown.return, load.off]\n';
  t.throws(() => parseConfigText('agent.yaml', text, AgentConfig), { message: /agent\.yaml:5:\d+: power\.outletCommands\[1\]: load\.off cuts the UPS outlets at once, before this server has halted; use a delayed command: shutdown\.return/ });
  for (const c of ['load.cycle', 'shutdown.reboot']) t.throws(() => parseConfigText('a.yaml', text.replace('load.off', c), AgentConfig), { message: new RegExp(c.replace('.', '\\.')) });
  t.doesNotThrow(() => parseConfigText('a.yaml', text.replace('load.off', 'load.off.delay'), AgentConfig));
});

t.test('the delayed outlet command goes after the shutdown command, and says what the UPS will do', async (t) => {
  const { events, code } = await run(ups(() => null), { outletCommands: ['shutdown.return'] });
  t.same(calls(), ['poweroff', 'instcmd shutdown.return'], 'the halt is scheduled first');
  t.match(code('power.outlets'), [{ message: /Asked the UPS \(shutdown\.return\) to cut its outlets after its shutdown delay \(ups\.delay\.shutdown\) and switch them back on when mains returns/ }]);
  t.same(events.filter((e) => e.code.startsWith('power.outlets_')), []);
  const delay = await run(ups(() => null), { outletCommands: ['load.off.delay'] });
  t.notMatch(delay.code('power.outlets')[0]!.message, /switch them back on/, 'load.off.delay is not described as restoring the outlets');
});

t.test('a failed shutdown command: the UPS is not asked to cut the outlets', async (t) => {
  const { report, code } = await run(ups(() => null), { shutdownCommand: ['/bin/false'] });
  t.equal(report.commandOk, false);
  t.same(calls(), []);
  t.equal(code('power.outlets').length, 0);
});

t.test('outlets_unsupported tells an unreachable upsd from refused commands', async (t) => {
  const refused = await run(ups((c) => new NutError('CMD-NOT-SUPPORTED', `INSTCMD u ${c}`)), { outletCommands: ['shutdown.return', 'load.off.delay'] });
  t.match(refused.code('power.outlets_unsupported'), [{ message: /The UPS refused every outlet command \(shutdown\.return, load\.off\.delay\)/, data: { cause: 'refused' } }]);
  const gone = await run(ups(() => new NutConnectionError('cannot connect to upsd at 127.0.0.1:3493: ECONNREFUSED')), { outletCommands: ['shutdown.return'] });
  t.match(gone.code('power.outlets_unsupported'), [{ message: /could not be sent: upsd did not answer, so the UPS was never asked/, data: { cause: 'unreachable' } }]);
  t.notMatch(gone.code('power.outlets_unsupported')[0]!.message, /accepted none|refused/);
  t.match(gone.code('power.outlets_refused')[0]!.message, /upsd did not answer: cannot connect/);
});

t.test('issue 18 item 9: a warning when the wait for the secondaries times out', async (t) => {
  const late = await run(ups(() => null, 3), {});
  t.match(late.code('power.secondaries_timeout'), [{ severity: 'warning', message: /^2 other servers are still logged in to upsd after the 0 s wait \(secondaryWaitSeconds\): shutting down anyway/, data: { secondariesLeft: 2 } }]);
  const gone = await run(ups(() => null, 1), {});
  t.same(gone.code('power.secondaries_timeout'), [], 'none left: no warning');
});
