/**
 * Property test of the power policy (issue 18): thousands of random UPS reading sequences (OL, OB,
 * LB, FSD, CHRG/DISCHRG, CAL, OFF, charge and runtime values, lost contact, WAIT; random times),
 * each checked against invariants written independently of the policy, from upsmon 2.8's rules:
 * a shutdown happens iff a critical condition held (and was not retracted first), every outage
 * that leads to a shutdown is recorded, flaps are counted and all reported, nothing happens while
 * only on mains with full charge. Seeded: a failure names its seed and step, to replay it.
 */
import t from 'tap';
import { PowerPolicy, type PolicyEvent, type PolicyOptions } from './policy.js';
import type { PollResult } from './reading.js';

const SEQUENCES = 3000;

/** mulberry32: small, seeded, good enough to spread cases. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Step {
  at: number;
  result: PollResult;
}

function generate(seed: number): { o: PolicyOptions; steps: Step[] } {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const o: PolicyOptions = {
    graceSeconds: pick([5, 30, 120, 600]),
    debounceSeconds: pick([0, 1, 5, 10, 20]),
    deadtimeSeconds: pick([0, 5, 15, 30]),
    lowChargePercent: pick([0, 10, 20, 50]),
    lowRuntimeSeconds: pick([0, 60, 300]),
    lowPersistSeconds: pick([0, 2, 5, 10]),
    offPersistSeconds: pick([0, 10, 30]),
    flapReportSeconds: pick([0, 30, 600]),
    daemon: pick(['nut', 'apcupsd'] as const),
  };
  const steps: Step[] = [];
  let at = int(0, 1_000_000);
  const n = int(5, 80);
  let phase: PollResult | null = null;
  let phaseLeft = 0;
  const reading = (): PollResult => {
    const base = pick([['OL'], ['OL'], ['OB'], ['OB'], ['OB', 'DISCHRG'], ['OL', 'CHRG'], ['OFF'], []]);
    const extra = [r() < 0.3 ? 'LB' : '', r() < 0.06 ? 'FSD' : '', r() < 0.05 ? 'CAL' : '', r() < 0.05 ? 'RB' : ''].filter(Boolean);
    const charge = r() < 0.1 ? null : r() < 0.4 ? 100 : int(0, 100);
    const runtimeSec = r() < 0.1 ? null : int(0, 3000);
    return { contact: 'ok', reading: { flags: [...base, ...extra], charge, runtimeSec, loadPct: 20, inputVoltage: base.includes('OB') ? 0 : 230 } };
  };
  const next = (): PollResult => {
    const x = r();
    if (x < 0.08) return { contact: pick(['stale', 'unreachable', 'driver-down', 'error', 'unknown-ups'] as const), message: 'lost' };
    if (x < 0.12) return { contact: 'ok', reading: { flags: ['WAIT'], charge: null, runtimeSec: null, loadPct: null, inputVoltage: null } };
    return reading();
  };
  for (let i = 0; i < n; i++) {
    // Phases: a result held over several polls, so that debounce, persistence and grace windows pass.
    if (phaseLeft <= 0) {
      phase = r() < 0.5 ? next() : null;
      phaseLeft = int(1, 12);
    }
    phaseLeft--;
    // flapping: two results alternating quickly
    const result = phase ?? next();
    at += pick([200, 500, 1000, 1000, 2000, 3000, 5000, 10_000, 30_000, 120_000]) * (0.5 + r());
    steps.push({ at: Math.round(at), result });
  }
  return { o, steps };
}

/** What the oracle knows of each step: only good readings (not WAIT) are readings. */
interface Seen {
  at: number;
  good: boolean;
  flags: Set<string>;
  charge: number | null;
  runtimeSec: number | null;
}

function seenOf(s: Step): Seen {
  const good = s.result.contact === 'ok' && !s.result.reading.flags.includes('WAIT');
  const rd = s.result.contact === 'ok' ? s.result.reading : null;
  return { at: s.at, good, flags: new Set(good ? rd!.flags : []), charge: good ? rd!.charge : null, runtimeSec: good ? rd!.runtimeSec : null };
}

const isOB = (x: Seen) => x.good && x.flags.has('OB');
const isOL = (x: Seen) => x.good && x.flags.has('OL') && !x.flags.has('OB');

/** Mains is unsettled at i when an OB was read since the last time OL had held the debounce (with no OB in between). */
function unsettledAt(h: Seen[], i: number, o: PolicyOptions): boolean {
  let lastOb = -1;
  for (let k = 0; k <= i; k++) if (isOB(h[k]!)) lastOb = k;
  if (lastOb < 0) return false;
  let firstOl: number | null = null;
  for (let k = lastOb + 1; k <= i; k++) {
    if (!isOL(h[k]!)) continue;
    firstOl ??= h[k]!.at;
    if (h[k]!.at - firstOl >= o.debounceSeconds * 1000) return false;
  }
  return true;
}

/** The first OB since mains last settled (the outage's start). */
function unsettledSince(h: Seen[], i: number, o: PolicyOptions): number | null {
  if (!unsettledAt(h, i, o)) return null;
  let since: number | null = null;
  for (let k = 0; k <= i; k++) {
    if (!h[k]!.good) continue;
    if (!unsettledAt(h, k, o)) since = null;
    else if (isOB(h[k]!)) since ??= h[k]!.at;
  }
  return since;
}

const lowish = (x: Seen, o: PolicyOptions) => x.flags.has('LB') || (x.charge !== null && x.charge <= o.lowChargePercent) || (x.runtimeSec !== null && x.runtimeSec <= o.lowRuntimeSeconds);

/** upsmon's OB+LB (not CAL), with our charge/runtime thresholds, held persistSeconds through an unsettled mains. */
function criticalLow(h: Seen[], i: number, o: PolicyOptions): boolean {
  const x = h[i]!;
  if (!isOB(x) || !lowish(x, o) || x.flags.has('CAL')) return false;
  let start = x.at;
  for (let k = i; k >= 0; k--) {
    const y = h[k]!;
    if (!y.good) continue;
    if (!(lowish(y, o) && !y.flags.has('CAL') && unsettledAt(h, k, o))) break;
    start = y.at;
  }
  return x.at - start >= o.lowPersistSeconds * 1000;
}

function lastGood(h: Seen[], before: number): Seen | null {
  for (let k = before - 1; k >= 0; k--) if (h[k]!.good) return h[k]!;
  return null;
}

/** FSD seen being raised (an FSD already set at the first reading counts only on battery: the old latch). */
const fsdRaised = (h: Seen[], i: number) => h[i]!.good && h[i]!.flags.has('FSD') && (lastGood(h, i) ? !lastGood(h, i)!.flags.has('FSD') : h[i]!.flags.has('OB'));

function offCritical(h: Seen[], i: number, o: PolicyOptions): boolean {
  if (!h[i]!.good || !h[i]!.flags.has('OFF')) return false;
  // like upsmon, a lost contact in between does not end the OFF spell
  let start = h[i]!.at;
  for (let k = i; k >= 0; k--) {
    if (!h[k]!.good) continue;
    if (!h[k]!.flags.has('OFF')) break;
    start = h[k]!.at;
  }
  return h[i]!.at - start >= o.offPersistSeconds * 1000;
}

/** upsmon's DEADTIME: no reading for deadtimeSeconds, last seen on battery. */
function lostCritical(h: Seen[], i: number, o: PolicyOptions): boolean {
  if (h[i]!.good) return false;
  let k = i;
  while (k > 0 && !h[k - 1]!.good) k--;
  return h[i]!.at - h[k]!.at >= o.deadtimeSeconds * 1000 && lastGood(h, k)?.flags.has('OB') === true;
}

/** Checks one sequence; returns the first broken invariant, or null. */
function check(o: PolicyOptions, steps: Step[]): string | null {
  const p = new PowerPolicy(o);
  const h = steps.map(seenOf);
  let openOutage: number | null = null;
  let shutdownsThisOutage = 0;
  let flapEvents = 0;
  let reported = 0;
  let lastReport: number | null = null;
  let lost = false;
  let calm = true; // only OL, charge 100, nothing else so far
  for (let i = 0; i < steps.length; i++) {
    const { at, result } = steps[i]!;
    const evs: PolicyEvent[] = p.observe(result, at);
    const x = h[i]!;
    if (x.good) calm &&= [...x.flags].every((f) => f === 'OL' || f === 'CHRG') && x.flags.has('OL') && x.charge === 100 && (x.runtimeSec ?? Infinity) > o.lowRuntimeSeconds;
    // mains back and settled re-arms: a later outage may shut down again
    if (isOL(x) && !unsettledAt(h, i, o)) shutdownsThisOutage = 0;
    const where = `step ${i} (t=${at}, ${result.contact === 'ok' ? result.reading.flags.join(' ') : result.contact})`;
    for (const e of evs) {
      switch (e.type) {
        case 'on-battery':
          if (openOutage !== null && openOutage !== e.since) return `${where}: on-battery for a second open outage`;
          openOutage = e.since;
          break;
        case 'mains-returned':
          if (openOutage === null || e.outage.start !== openOutage) return `${where}: mains-returned without its on-battery`;
          if (e.outage.end! < e.outage.start) return `${where}: outage ends before it starts`;
          openOutage = null;
          break;
        case 'shutdown': {
          const why =
            e.reason === 'low-battery' ? criticalLow(h, i, o)
            : e.reason === 'fsd' ? fsdRaised(h, i)
            : e.reason === 'ups-off' ? offCritical(h, i, o)
            : e.reason === 'lost-contact-on-battery' ? lostCritical(h, i, o)
            : unsettledAt(h, i, o) && (unsettledSince(h, i, o) ?? Infinity) <= at - o.graceSeconds * 1000;
          if (!why) return `${where}: shutdown (${e.reason}) but its condition did not hold`;
          if (calm) return `${where}: shutdown while only ever on mains with full charge`;
          if (++shutdownsThisOutage > 1) return `${where}: a second shutdown without mains settled in between`;
          // every outage that leads to a shutdown is recorded first
          if (unsettledAt(h, i, o) && !(p.outage?.shutdown === true && openOutage === p.outage.start)) return `${where}: shutdown on battery without its outage recorded`;
          if (unsettledAt(h, i, o) && p.outage!.start !== unsettledSince(h, i, o)) return `${where}: outage start ${p.outage!.start}, first OB at ${unsettledSince(h, i, o)}`;
          break;
        }
        case 'flap-ignored':
          flapEvents++;
          break;
        case 'flapping':
          if (lastReport !== null && at - lastReport < o.flapReportSeconds * 1000) return `${where}: flapping reported again within flapReportSeconds`;
          if (e.count < 1) return `${where}: an empty flapping report`;
          reported += e.count;
          lastReport = at;
          if (e.total !== flapEvents) return `${where}: flapping total ${e.total}, flaps seen ${flapEvents}`;
          break;
        case 'contact-lost':
          if (lost) return `${where}: contact lost twice`;
          lost = true;
          if (e.neverSeen !== (lastGood(h, i + 1) === null)) return `${where}: neverSeen wrong`;
          if (e.critical !== (lastGood(h, i + 1)?.flags.has('OB') === true)) return `${where}: critical wrong`;
          break;
        case 'contact-restored':
          if (!x.good) return `${where}: contact restored by ${result.contact === 'ok' ? 'WAIT' : result.contact}`;
          lost = false;
          break;
        case 'fsd-latched':
          break;
      }
    }
    if (!x.good && lost && !evs.length && p.contact === 'ok') return `${where}: contact ok without a reading`;
    // completeness: a critical condition now means the policy is shutting down
    const critical = criticalLow(h, i, o) || fsdRaised(h, i) || offCritical(h, i, o) || lostCritical(h, i, o);
    if (critical && p.shuttingDown === null) return `${where}: a critical condition held but no shutdown`;
  }
  if (flapEvents !== p.flapsIgnored) return `flap events ${flapEvents}, counter ${p.flapsIgnored}`;
  // pending flaps go out with the next reading
  const last = h.filter((x) => x.good).pop()?.at ?? 0;
  if (reported !== p.flapsIgnored && (lastReport === null || last - lastReport >= o.flapReportSeconds * 1000)) return `flaps left unreported: ${p.flapsIgnored - reported}`;
  return null;
}

t.test(`${SEQUENCES} random UPS sequences against upsmon's rules`, async (t) => {
  let failures = 0;
  let shutdowns = 0;
  let flaps = 0;
  for (let seed = 1; seed <= SEQUENCES && failures < 5; seed++) {
    const { o, steps } = generate(seed);
    const broken = check(o, steps);
    if (broken) {
      failures++;
      t.fail(`seed ${seed}: ${broken}`, { options: o, steps: steps.map((s) => `${s.at} ${s.result.contact === 'ok' ? s.result.reading.flags.join(' ') + ` ${s.result.reading.charge}% ${s.result.reading.runtimeSec}s` : s.result.contact}`) });
    }
    const p = new PowerPolicy(o);
    for (const s of steps) for (const e of p.observe(s.result, s.at)) if (e.type === 'shutdown') shutdowns++;
    flaps += p.flapsIgnored;
  }
  t.equal(failures, 0, 'every sequence keeps every invariant');
  // the generator must reach the interesting cases, or the invariants prove little
  t.ok(shutdowns > SEQUENCES / 10, `${shutdowns} shutdowns`);
  t.ok(flaps > SEQUENCES / 10, `${flaps} flaps`);
});
