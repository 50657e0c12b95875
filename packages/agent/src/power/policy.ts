/**
 * The power policy as a pure state machine: fed each poll result with its time, it says what
 * changed and when to shut down. No timers, no I/O, so every rule is unit-tested with made-up clocks.
 *
 * Rules (see docs/operations.md, "Power"):
 * - mains ↔ battery changes count only after holding `debounceSeconds` (flaps are ignored);
 *   the outage starts at the first OB of the streak and ends at the first OL of the streak.
 * - shut down when: on battery ≥ grace; OB + low battery (LB, charge or runtime under the
 *   thresholds) held `persistSeconds`; OFF held `offPersistSeconds`; an FSD we saw being raised.
 * - low battery mirrors upsmon 2.8's is_ups_critical(): OB together with LB (not while CAL) is
 *   critical. upsmon latches OB until it sees OL; we go further while mains flaps: an OL reading
 *   before mains has held `debounceSeconds` does not reset the low-battery clock ("OB LB" / "OL LB"
 *   alternating is one low-battery spell), but the decision itself is taken on an OB reading.
 *   `persistSeconds` is a filter like NUT's later OBLBDURATION (0: the first OB+LB poll, as upsmon 2.8).
 * - an FSD already set when we first see the UPS on mains is upsd's old latch: ignored.
 * - stale data, a dead driver or a lost upsd are never "on battery": after `deadtimeSeconds`
 *   they are critical if the last good reading was OB, else a warning (upsmon's DEADTIME).
 */
import type { Contact, PollResult, UpsReading } from './reading.js';

export interface PolicyOptions {
  graceSeconds: number;
  debounceSeconds: number;
  deadtimeSeconds: number;
  lowChargePercent: number;
  lowRuntimeSeconds: number;
  lowPersistSeconds: number;
  offPersistSeconds: number;
  /** Flaps go to the hub at most this often, counted (the first one at once). */
  flapReportSeconds: number;
  /** apcupsd's SHUTTING DOWN (read as FSD) is apcupsd shutting the host down itself, not a primary's FSD. */
  daemon: 'nut' | 'apcupsd';
}

export type ShutdownReason = 'grace' | 'low-battery' | 'fsd' | 'ups-off' | 'lost-contact-on-battery';

export interface Outage {
  start: number;
  end: number | null;
  lowestCharge: number | null;
  shutdown: boolean;
  /** When the shutdown command ran, and when the agent watched again after the reboot: the server was off in between. */
  haltedAt?: number | null;
  resumedAt?: number | null;
}

export type PolicyEvent =
  /** critical: recorded at once because a critical reading came before the debounce ended. */
  | { type: 'on-battery'; since: number; reading: UpsReading; critical: boolean }
  | { type: 'mains-returned'; outage: Outage }
  | { type: 'flap-ignored'; to: 'battery' | 'mains' }
  /** Rate-limited report: `count` flaps since the last report (`total` since start). */
  | { type: 'flapping'; count: number; total: number; since: number }
  | { type: 'fsd-latched' }
  /** neverSeen: no good reading since the agent started, so the power state is unknown (not "on mains"). */
  | { type: 'contact-lost'; contact: Exclude<Contact, 'ok'>; message: string; critical: boolean; neverSeen: boolean; since: number }
  | { type: 'contact-restored'; lostSince: number }
  | { type: 'shutdown'; reason: ShutdownReason; detail: string };

type Mains = 'mains' | 'battery' | 'unknown';

export class PowerPolicy {
  mains: Mains = 'unknown';
  reading: UpsReading | null = null;
  lastSeenAt: number | null = null;
  contact: Contact | 'unknown' = 'unknown';
  contactMessage = '';
  onBatterySince: number | null = null;
  outage: Outage | null = null;
  shuttingDown: ShutdownReason | null = null;
  flapsIgnored = 0;
  private flapsUnreported = 0;
  private firstUnreportedFlap = 0;
  private flapReportedAt: number | null = null;
  private candidate: { to: 'battery' | 'mains'; since: number } | null = null;
  private lowSince: number | null = null;
  /** The first OB since mains last held `debounceSeconds`; null while mains is settled. */
  private unsettledSince: number | null = null;
  /** Start of the current run of OL readings. */
  private olSince: number | null = null;
  private offSince: number | null = null;
  private lostSince: number | null = null;
  private lostReported = false;

  constructor(
    private readonly o: PolicyOptions,
    /** An outage still open from before a reboot (persisted): it goes on, with a fresh grace clock. */
    restored: Outage | null = null,
  ) {
    this.outage = restored;
  }

  get shutdownDueAt(): number | null {
    return this.mains === 'battery' && this.onBatterySince !== null ? this.onBatterySince + this.o.graceSeconds * 1000 : null;
  }

  observe(polled: PollResult, now: number): PolicyEvent[] {
    const out: PolicyEvent[] = [];
    // upsd says WAIT while its driver has not delivered data yet: no reading, so no contact.
    const result: PollResult = polled.contact === 'ok' && polled.reading.flags.includes('WAIT') ? { contact: 'stale', message: 'upsd has no data from the UPS driver yet (WAIT)' } : polled;
    this.contact = result.contact;
    if (result.contact !== 'ok') {
      this.contactMessage = result.message;
      this.lostSince ??= now;
      if (!this.lostReported && now - this.lostSince >= this.o.deadtimeSeconds * 1000) {
        this.lostReported = true;
        const critical = this.reading?.flags.includes('OB') === true;
        out.push({ type: 'contact-lost', contact: result.contact, message: result.message, critical, neverSeen: this.reading === null, since: this.lostSince });
        if (critical) this.requestShutdown(out, 'lost-contact-on-battery', `contact with the UPS lost for ${this.o.deadtimeSeconds} s while it was last seen on battery`);
      }
      return out;
    }
    this.contactMessage = '';
    if (this.lostSince !== null && this.lostReported) out.push({ type: 'contact-restored', lostSince: this.lostSince });
    this.lostSince = null;
    this.lostReported = false;

    const prev = this.reading;
    const r = result.reading;
    this.reading = r;
    this.lastSeenAt = now;
    const flags = new Set(r.flags);
    const ob = flags.has('OB');
    const ol = flags.has('OL') && !ob;

    this.trackSettled(ob, ol, now);
    this.trackMains(ob, ol, now, r, out);
    this.reportFlaps(now, out);
    if (this.outage && this.outage.end === null && r.charge !== null) {
      this.outage.lowestCharge = Math.min(this.outage.lowestCharge ?? r.charge, r.charge);
    }

    // FSD: act only on one we saw raised (or one set during an outage); an old latch on mains is ignored.
    if (flags.has('FSD')) {
      const raised = prev ? !prev.flags.includes('FSD') : ob;
      if (raised) this.requestShutdown(out, 'fsd', this.o.daemon === 'apcupsd' ? 'apcupsd reports SHUTTING DOWN: apcupsd itself is shutting this host down (its BATTERYLEVEL, MINUTES or TIMEOUT limit was reached, or it was told to)' : 'the UPS is in forced shutdown (FSD): the primary or an operator asked every host to go');
      else if (!prev) out.push({ type: 'fsd-latched' });
    }

    // The clock runs through OL readings while mains is unsettled; the decision needs OB now.
    const lowish = flags.has('LB') || (r.charge !== null && r.charge <= this.o.lowChargePercent) || (r.runtimeSec !== null && r.runtimeSec <= this.o.lowRuntimeSeconds);
    const low = lowish && this.unsettledSince !== null && !flags.has('CAL');
    this.lowSince = low ? (this.lowSince ?? now) : null;
    if (ob && this.lowSince !== null && now - this.lowSince >= this.o.lowPersistSeconds * 1000) {
      this.requestShutdown(out, 'low-battery', `battery low on battery power (${[flags.has('LB') ? 'LB' : '', r.charge !== null ? `charge ${r.charge}%` : '', r.runtimeSec !== null ? `runtime ${r.runtimeSec} s` : ''].filter(Boolean).join(', ')})`);
    }

    this.offSince = flags.has('OFF') ? (this.offSince ?? now) : null;
    if (this.offSince !== null && now - this.offSince >= this.o.offPersistSeconds * 1000) {
      this.requestShutdown(out, 'ups-off', `the UPS has reported its output OFF for ${this.o.offPersistSeconds} s`);
    }

    const due = this.shutdownDueAt;
    if (due !== null && now >= due) {
      this.requestShutdown(out, 'grace', `on battery for ${Math.round((now - this.onBatterySince!) / 1000)} s, past the grace of ${this.o.graceSeconds} s`);
    }
    return out;
  }

  /** Mains is settled once OL has held `debounceSeconds` with no OB in between. */
  private trackSettled(ob: boolean, ol: boolean, now: number): void {
    if (ob) {
      this.olSince = null;
      this.unsettledSince ??= now;
    } else if (ol) {
      this.olSince ??= now;
      if (now - this.olSince >= this.o.debounceSeconds * 1000) this.unsettledSince = null;
    }
  }

  private trackMains(ob: boolean, ol: boolean, now: number, r: UpsReading, out: PolicyEvent[]): void {
    const raw: Mains = ob ? 'battery' : ol ? 'mains' : 'unknown';
    if (raw === 'unknown') return; // OFF, bypass…: keep what we believed
    if (this.mains === 'unknown' && !this.candidate) {
      // The first reading after start: mains is believed at once (unless OB came first); battery still has to hold.
      if (raw === 'mains') {
        this.mains = 'mains';
        this.closeOutage(now, out);
        return;
      }
      if (this.outage) return this.enterBattery(now, r, out); // an outage that began before a reboot
    }
    if (raw === this.mains) {
      if (this.candidate) {
        this.flapsIgnored++;
        if (this.flapsUnreported++ === 0) this.firstUnreportedFlap = now;
        out.push({ type: 'flap-ignored', to: this.candidate.to });
      }
      this.candidate = null;
      return;
    }
    if (!this.candidate || this.candidate.to !== raw) this.candidate = { to: raw, since: now };
    if (now - this.candidate.since < this.o.debounceSeconds * 1000) return;
    const since = this.candidate.since;
    this.candidate = null;
    if (raw === 'battery') this.enterBattery(since, r, out);
    else {
      this.mains = 'mains';
      this.onBatterySince = null;
      this.closeOutage(since, out);
    }
  }

  private reportFlaps(now: number, out: PolicyEvent[]): void {
    if (this.flapsUnreported === 0) return;
    if (this.flapReportedAt !== null && now - this.flapReportedAt < this.o.flapReportSeconds * 1000) return;
    out.push({ type: 'flapping', count: this.flapsUnreported, total: this.flapsIgnored, since: this.firstUnreportedFlap });
    this.flapsUnreported = 0;
    this.flapReportedAt = now;
  }

  private enterBattery(since: number, r: UpsReading, out: PolicyEvent[], critical = false): void {
    this.mains = 'battery';
    this.onBatterySince = since;
    this.outage ??= { start: Math.min(since, this.unsettledSince ?? since), end: null, lowestCharge: r.charge, shutdown: false };
    out.push({ type: 'on-battery', since: this.outage.start, reading: r, critical });
  }

  private closeOutage(end: number, out: PolicyEvent[]): void {
    this.shuttingDown = null; // mains is back: a later outage may shut down again
    if (!this.outage) return;
    const outage = { ...this.outage, end: Math.max(end, this.outage.start) };
    this.outage = null;
    out.push({ type: 'mains-returned', outage });
  }

  private requestShutdown(out: PolicyEvent[], reason: ShutdownReason, detail: string): void {
    if (this.shuttingDown) return; // exactly one shutdown per outage
    this.shuttingDown = reason;
    // The debounce only holds back notifications: a critical reading within it is still an outage,
    // recorded (and stored by the caller) before the shutdown it causes.
    if (!this.outage && this.unsettledSince !== null && this.reading) {
      this.candidate = null;
      this.enterBattery(this.unsettledSince, this.reading, out, true);
    }
    if (this.outage) this.outage.shutdown = true;
    out.push({ type: 'shutdown', reason, detail });
  }
}
