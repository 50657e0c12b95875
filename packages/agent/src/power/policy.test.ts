import t from 'tap';
import { PowerPolicy, type PolicyEvent } from './policy.js';
import type { PollResult } from './reading.js';

const opts = { graceSeconds: 60, debounceSeconds: 5, deadtimeSeconds: 15, lowChargePercent: 20, lowRuntimeSeconds: 120, lowPersistSeconds: 3, offPersistSeconds: 30, flapReportSeconds: 600, daemon: 'nut' as const };
const ok = (status: string, charge = 90, runtime = 1800): PollResult => ({ contact: 'ok', reading: { flags: status.split(' '), charge, runtimeSec: runtime, loadPct: 10, inputVoltage: 230 } });
const S = 1000;

/** Feeds (second, result) pairs; returns the event types with their second. */
function run(p: PowerPolicy, steps: Array<[number, PollResult]>): Array<[number, PolicyEvent]> {
  const out: Array<[number, PolicyEvent]> = [];
  for (const [s, r] of steps) for (const e of p.observe(r, s * S)) out.push([s, e]);
  return out;
}
const types = (evs: Array<[number, PolicyEvent]>) => evs.map(([s, e]) => `${s}:${e.type}${e.type === 'shutdown' ? `:${e.reason}` : ''}`);

t.test('on battery within the grace and back: one outage, no shutdown', async (t) => {
  const p = new PowerPolicy(opts);
  const evs = run(p, [[0, ok('OL')], [10, ok('OB DISCHRG', 80)], [15, ok('OB', 70)], [30, ok('OL CHRG', 72)], [35, ok('OL')]]);
  t.same(types(evs), ['15:on-battery', '35:mains-returned']);
  const o = (evs[1]![1] as Extract<PolicyEvent, { type: 'mains-returned' }>).outage;
  t.same(o, { start: 10 * S, end: 30 * S, lowestCharge: 70, shutdown: false }, 'from the first OB to the first OL, lowest charge kept');
});

t.test('past the grace: exactly one shutdown', async (t) => {
  const p = new PowerPolicy(opts);
  const evs = run(p, [[0, ok('OL')], [10, ok('OB')], [15, ok('OB')], [69, ok('OB')], [70, ok('OB')], [80, ok('OB')]]);
  t.same(types(evs), ['15:on-battery', '70:shutdown:grace']);
  t.equal(p.outage?.shutdown, true);
});

t.test('flaps shorter than the debounce are ignored', async (t) => {
  const p = new PowerPolicy(opts);
  const steps: Array<[number, PollResult]> = [[0, ok('OL')]];
  for (let s = 2; s < 200; s += 4) steps.push([s, ok('OB')], [s + 2, ok('OL')]);
  const evs = run(p, steps).filter(([, e]) => e.type !== 'flap-ignored');
  t.same(types(evs), ['4:flapping'], 'nothing but one flapping report (the next one is due after flapReportSeconds)');
  t.ok(p.flapsIgnored > 40);
});

t.test('issue 18 item 9: flaps are reported, rate-limited, every one counted', async (t) => {
  const p = new PowerPolicy({ ...opts, flapReportSeconds: 60 });
  const steps: Array<[number, PollResult]> = [[0, ok('OL')]];
  for (let s = 2; s < 200; s += 4) steps.push([s, ok('OB')], [s + 2, ok('OL')]);
  steps.push([300, ok('OL')]);
  const reports = run(p, steps).filter(([, e]) => e.type === 'flapping') as Array<[number, Extract<PolicyEvent, { type: 'flapping' }>]>;
  t.same(reports.map(([s]) => s), [4, 64, 124, 184, 300], 'the first at once, then at most one a minute; the rest once the minute is up');
  t.equal(reports.reduce((n, [, e]) => n + e.count, 0), p.flapsIgnored, 'every flap is in a report');
  t.equal(reports[reports.length - 1]![1].total, p.flapsIgnored);
});

t.test('OB + LB shuts down after persistSeconds; LB on mains (charging) never does', async (t) => {
  const p = new PowerPolicy(opts);
  t.same(types(run(p, [[0, ok('OL LB CHRG', 10)], [100, ok('OL LB', 12)]])), []);
  t.same(types(run(p, [[101, ok('OB LB', 9)], [103, ok('OB LB', 8)], [104, ok('OB LB', 8)]])), ['104:on-battery', '104:shutdown:low-battery']);
  const q = new PowerPolicy(opts);
  t.same(types(run(q, [[0, ok('OL')], [1, ok('OB LB')], [2, ok('OL')], [10, ok('OL')]])), ['2:flap-ignored', '2:flapping'], 'a spurious OB LB shorter than persistSeconds passes');
  const r = new PowerPolicy(opts);
  t.same(types(run(r, [[0, ok('OB', 50, 100)], [3, ok('OB', 50, 100)]])), ['3:on-battery', '3:shutdown:low-battery'], 'runtime under the threshold counts as low');
});

t.test('FSD: a new one shuts down at once; the old latch on mains after a restart is ignored', async (t) => {
  const p = new PowerPolicy(opts);
  t.same(types(run(p, [[0, ok('OL')], [5, ok('FSD OL')]])), ['5:shutdown:fsd']);
  const q = new PowerPolicy(opts);
  t.same(types(run(q, [[0, ok('FSD OL')], [5, ok('FSD OL')], [100, ok('FSD OL')]])), ['0:fsd-latched']);
  const r = new PowerPolicy(opts);
  t.same(types(run(r, [[0, ok('FSD OB')]])), ['0:on-battery', '0:shutdown:fsd'], 'FSD seen during an outage counts');
});

t.test('DEADTIME: lost contact is critical only if last seen on battery; stale is not on battery', async (t) => {
  const stale: PollResult = { contact: 'stale', message: 'stale' };
  const gone: PollResult = { contact: 'unreachable', message: 'ECONNREFUSED' };
  const p = new PowerPolicy(opts);
  const evs = run(p, [[0, ok('OL')], [1, stale], [10, stale], [16, stale], [30, gone], [40, ok('OL')]]);
  t.same(types(evs), ['16:contact-lost', '40:contact-restored']);
  t.equal((evs[0]![1] as Extract<PolicyEvent, { type: 'contact-lost' }>).critical, false);
  t.equal(p.mains, 'mains', 'never believed on battery');
  const q = new PowerPolicy(opts);
  const evq = run(q, [[0, ok('OL')], [1, ok('OB')], [2, gone], [10, gone], [17, gone]]);
  t.same(types(evq), ['17:contact-lost', '17:on-battery', '17:shutdown:lost-contact-on-battery'], 'a blip shorter than DEADTIME passes; longer, on battery, is critical');
});

t.test('an outage open before a reboot is closed when mains is seen, with shutdown kept', async (t) => {
  const p = new PowerPolicy(opts, { start: 1000, end: null, lowestCharge: 15, shutdown: true });
  const evs = run(p, [[500, ok('OL', 40)]]);
  t.same(types(evs), ['500:mains-returned']);
  t.same((evs[0]![1] as Extract<PolicyEvent, { type: 'mains-returned' }>).outage, { start: 1000, end: 500 * S, lowestCharge: 15, shutdown: true });
});

t.test('issue 18 item 6: OB LB / OL LB alternating at 15 % shuts down; one spurious OB LB then steady OL LB does not', async (t) => {
  const p = new PowerPolicy({ ...opts, debounceSeconds: 10, lowPersistSeconds: 5 });
  const steps: Array<[number, PollResult]> = [[0, ok('OL', 100)]];
  // 2–3 s on battery, 1 s back: never 10 s on mains, never 5 s of OB LB in a row
  for (let s = 1; s < 60; s += 4) steps.push([s, ok('OB LB', 15, 120)], [s + 2, ok('OB LB', 15, 120)], [s + 3, ok('OL LB', 15, 120)]);
  const evs = types(run(p, steps)).filter((e) => !e.includes('flap'));
  t.ok(evs.includes('7:shutdown:low-battery'), `shut down on the first OB LB poll 5 s after the first one: ${evs.join(' ')}`);
  const q = new PowerPolicy({ ...opts, debounceSeconds: 10, lowPersistSeconds: 5 });
  const calm: Array<[number, PollResult]> = [[0, ok('OL LB CHRG', 15)], [1, ok('OB LB', 15)], [2, ok('OL LB', 15)]];
  for (let s = 3; s < 100; s++) calm.push([s, ok('OL LB CHRG', 15 + s / 10)]);
  t.same(types(run(q, calm)).filter((e) => e.includes('shutdown')), [], 'mains back and settled: the decision needs OB now');
  const c = new PowerPolicy(opts);
  t.same(types(run(c, [[0, ok('OL')], [1, ok('OB LB CAL', 10)], [10, ok('OB LB CAL', 9)]])).filter((e) => e.includes('shutdown')), [], 'OB LB while calibrating is not critical (upsmon)');
});

t.test('issue 18 item 7: a critical reading within the debounce records the outage before the shutdown', async (t) => {
  const o = { ...opts, debounceSeconds: 10, lowPersistSeconds: 0 };
  for (const [what, steps, reason] of [
    ['OB LB', [[0, ok('OL')], [1, ok('OB DISCHRG', 40)], [2, ok('OB LB', 15)]], 'low-battery'],
    ['low charge', [[0, ok('OL')], [1, ok('OB DISCHRG', 10)]], 'low-battery'],
    ['low runtime', [[0, ok('OL')], [1, ok('OB DISCHRG', 80, 30)]], 'low-battery'],
    ['FSD', [[0, ok('OL')], [1, ok('OB DISCHRG', 80)], [2, ok('FSD OB', 80)]], 'fsd'],
    ['OB LB at start', [[1, ok('OB LB', 15)]], 'low-battery'],
  ] as Array<[string, Array<[number, PollResult]>, string]>) {
    const p = new PowerPolicy(o);
    const evs = run(p, steps);
    const last = steps[steps.length - 1]![0];
    t.same(types(evs), [`${last}:on-battery`, `${last}:shutdown:${reason}`], `${what}: on battery, then the shutdown`);
    t.match(evs[0]![1], { type: 'on-battery', since: 1 * S, critical: true });
    t.match(p.outage, { start: 1 * S, end: null, shutdown: true }, `${what}: the open outage says a shutdown happened`);
    // after the reboot, mains is seen: the outage is closed and reported
    const q = new PowerPolicy(o, { ...p.outage! });
    t.same(types(run(q, [[600, ok('OL CHRG', 20)]])), ['600:mains-returned']);
  }
  const m = new PowerPolicy(o);
  t.same(types(run(m, [[0, ok('OL')], [5, ok('FSD OL')]])), ['5:shutdown:fsd'], 'FSD on mains: a shutdown without an outage');
  t.equal(m.outage, null);
});

t.test('issue 18 item 9: WAIT is not contact; a UPS never seen is unknown, not "on mains"', async (t) => {
  const wait = ok('WAIT');
  const gone: PollResult = { contact: 'error', message: 'upsd answered ERR ACCESS-DENIED' };
  const p = new PowerPolicy(opts);
  const evs = run(p, [[0, ok('OL')], [1, gone], [17, gone], [18, wait], [30, wait], [40, ok('OL')]]);
  t.same(types(evs), ['17:contact-lost', '40:contact-restored'], 'WAIT restores nothing');
  t.equal(p.contact, 'ok');
  const q = new PowerPolicy(opts);
  const evq = run(q, [[0, wait], [16, wait]]);
  t.same(types(evq), ['16:contact-lost']);
  t.match(evq[0]![1], { neverSeen: true, critical: false });
  t.equal(q.mains, 'unknown');
  t.equal(q.reading, null, 'WAIT is no reading');
  const r = new PowerPolicy(opts);
  t.match(run(r, [[0, gone], [20, gone]])[0]![1], { type: 'contact-lost', neverSeen: true, critical: false });
  const s = new PowerPolicy(opts);
  t.match(run(s, [[0, ok('OL')], [1, gone], [20, gone]])[0]![1], { type: 'contact-lost', neverSeen: false, critical: false });
});

t.test('issue 18 item 9: apcupsd SHUTTING DOWN is apcupsd shutting the host down, not a primary\'s FSD', async (t) => {
  const detail = (daemon: 'nut' | 'apcupsd') => (run(new PowerPolicy({ ...opts, daemon }), [[0, ok('OL')], [5, ok('OB FSD')]]).find(([, e]) => e.type === 'shutdown')![1] as Extract<PolicyEvent, { type: 'shutdown' }>).detail;
  t.match(detail('apcupsd'), /apcupsd itself is shutting this host down/);
  t.notMatch(detail('apcupsd'), /primary or an operator/);
  t.match(detail('nut'), /the primary or an operator asked every host to go/);
});
