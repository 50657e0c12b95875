/** The power watch as an agent module: polls the UPS, runs the policy, reports, shuts down. */
import { join } from 'node:path';
import type { AgentPowerConfig, StatusPower } from '@sentinela/shared';
import type { AgentContext, AgentModule, StatusSections } from '../module.js';
import { probeServices } from '../health/service-probe.js';
import { ApcupsdSource } from './apcupsd-source.js';
import { finalBackupFor } from './final-backup.js';
import { NutSource } from './nut-source.js';
import { outageView } from './outage-view.js';
import { PowerPolicy, type PolicyEvent } from './policy.js';
import type { UpsControl, UpsSource } from './reading.js';
import { runShutdownSequence } from './shutdown.js';
import { PowerSnapshotWriter, POWER_OFF } from './snapshot.js';
import { PowerStore } from './store.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class PowerModule implements AgentModule {
  readonly name = 'power';
  private readonly cfg: AgentPowerConfig | undefined;
  private source: UpsSource | null = null;
  private control: UpsControl | null = null;
  private store: PowerStore | null = null;
  private policy: PowerPolicy | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private closed = false;
  private shutdown: Promise<void> | null = null;
  private shutDown = false;
  /** Why upsd refused our login (the UPS is still read); null when logged in or no user is configured. */
  private loginProblem: string | null = null;
  private snapshot: PowerSnapshotWriter | null = null;

  constructor(private readonly ctx: AgentContext) {
    this.cfg = ctx.config.power;
  }

  start(): void {
    const cfg = this.cfg;
    if (!cfg) {
      this.ctx.logger.info('power watch off: no power section in agent.yaml (no UPS daemon on this host)');
      return;
    }
    const s = cfg.source;
    const nut = s.kind === 'nut' ? new NutSource(s) : null;
    this.source = nut ?? new ApcupsdSource(s as { host: string; port: number; timeoutSeconds: number });
    this.control = nut;
    this.store = new PowerStore(join(this.ctx.config.dataDir, 'power.db'));
    this.snapshot = new PowerSnapshotWriter(this.ctx.config.dataDir);
    const open = this.store.open();
    if (open?.haltedAt != null && open.resumedAt == null) {
      // Back after the shutdown this outage caused: the server was off from the halt until now.
      open.resumedAt = Date.now();
      this.store.save(open);
    }
    this.policy = new PowerPolicy(
      {
        graceSeconds: cfg.graceSeconds,
        debounceSeconds: cfg.debounceSeconds,
        deadtimeSeconds: cfg.deadtimeSeconds,
        lowChargePercent: cfg.lowBattery.chargePercent,
        lowRuntimeSeconds: cfg.lowBattery.runtimeSeconds,
        lowPersistSeconds: cfg.lowBattery.persistSeconds,
        offPersistSeconds: cfg.offPersistSeconds,
        flapReportSeconds: cfg.flapReportSeconds,
        daemon: cfg.source.kind,
      },
      open,
    );
    this.ctx.logger.info({ source: this.source.label, role: cfg.role }, `power watch on: ${this.source.label} (${cfg.role})`);
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.closed || this.shutDown) return;
    this.timer = setTimeout(() => {
      this.polling = this.pollOnce()
        .catch((err: Error) => this.ctx.logger.error({ err: err.message }, `power poll failed: ${err.message}`))
        .finally(() => {
          this.polling = null;
          this.schedule(this.cfg!.pollSeconds * 1000);
        });
    }, ms);
  }

  private async pollOnce(): Promise<void> {
    const policy = this.policy!;
    const result = await this.source!.poll();
    if (this.closed) return;
    if (result.contact === 'ok') this.noteLogin(result.loginProblem ?? null);
    const before = JSON.stringify(policy.outage);
    const events = policy.observe(result, Date.now());
    if (policy.outage && JSON.stringify(policy.outage) !== before) this.store!.save(policy.outage);
    for (const ev of events) await this.handle(ev);
    this.saveSnapshot();
    if (events.some((e) => e.type !== 'flap-ignored')) void this.ctx.sampleNow();
  }

  private noteLogin(problem: string | null): void {
    if (problem === this.loginProblem) return;
    const was = this.loginProblem;
    this.loginProblem = problem;
    if (problem) this.ctx.event('power.login_failed', 'warning', `Cannot log in to upsd: ${problem}`, { user: this.cfg!.source.kind === 'nut' ? this.cfg!.source.username : undefined });
    else if (was) this.ctx.event('power.login_ok', 'info', 'Logged in to upsd again', {});
    void this.ctx.sampleNow();
  }

  private async handle(ev: PolicyEvent): Promise<void> {
    const { ctx } = this;
    const cfg = this.cfg!;
    switch (ev.type) {
      case 'on-battery': {
        const mins = Math.round(cfg.graceSeconds / 60);
        const next = ev.critical ? 'the battery is already critical, so the server shuts down now' : `the server shuts down after ${cfg.graceSeconds < 120 ? `${cfg.graceSeconds} s` : `${mins} min`} unless mains returns`;
        ctx.event('power.on_battery', ev.critical ? 'critical' : 'warning', `Mains power lost: the UPS is on battery (charge ${ev.reading.charge ?? '?'}%); ${next}`, {
          since: iso(ev.since),
          charge: ev.reading.charge,
          runtimeSec: ev.reading.runtimeSec,
          critical: ev.critical,
        });
        break;
      }
      case 'mains-returned': {
        this.store!.save(ev.outage);
        const o = outageView(ev.outage)!;
        // After power returns, check that the clinical database (the probed services) is back.
        const services = await probeServices(ctx.config.sampling.services).catch(() => []);
        const down = services.filter((s) => !s.up).map((s) => s.name);
        const off = o.serverOffSec !== undefined ? ` (the server was shut down and off for ${o.serverOffSec} s)` : o.shutdown ? ' (the server was shut down)' : '';
        ctx.event('power.restored', down.length ? 'warning' : 'info', `Mains power is back after ${o.durationSec} s on battery${off}${down.length ? `; not answering yet: ${down.join(', ')}` : ''}`, {
          outage: o,
          services: services.map((s) => ({ name: s.name, up: s.up })),
        });
        break;
      }
      case 'flap-ignored':
        ctx.logger.debug({ to: ev.to }, 'power: a change shorter than the debounce was ignored');
        break;
      case 'flapping':
        ctx.event('power.flapping', 'warning', `Mains power is unstable: ${ev.count} change${ev.count === 1 ? '' : 's'} between mains and battery shorter than the ${cfg.debounceSeconds} s debounce since ${iso(ev.since)} (${ev.total} since the agent started); check the mains supply and the UPS's input sensitivity`, {
          count: ev.count,
          total: ev.total,
          since: iso(ev.since),
        });
        break;
      case 'fsd-latched':
        ctx.event('power.fsd_latched', 'info', cfg.source.kind === 'nut' ? 'upsd still shows the forced shutdown (FSD) of an earlier shutdown while on mains: ignored (it clears when upsd restarts)' : 'apcupsd still reports SHUTTING DOWN from an earlier shutdown while on mains: ignored (it clears when apcupsd restarts)', {});
        break;
      case 'contact-lost':
        const why = ev.critical
          ? 'it was last seen on battery, so this counts as critical'
          : ev.neverSeen
            ? 'the agent has not read the UPS once since it started: the power state is unknown and this server is not protected (it will not shut down on a power cut)'
            : 'it was last seen on mains, so the server keeps running';
        ctx.event('power.contact_lost', ev.critical ? 'critical' : 'warning', `Lost contact with the UPS (${ev.contact}): ${ev.message}; ${why}`, {
          contact: ev.contact,
          neverSeen: ev.neverSeen,
          since: iso(ev.since),
          lastFlags: this.policy!.reading?.flags ?? [],
        });
        break;
      case 'contact-restored':
        ctx.event('power.contact_restored', 'info', `Contact with the UPS is back after ${Math.round((Date.now() - ev.lostSince) / 1000)} s`, { since: iso(ev.lostSince) });
        break;
      case 'shutdown':
        this.shutdown ??= this.runShutdown(ev.reason, ev.detail);
        break;
    }
  }

  private async runShutdown(reason: string, detail: string): Promise<void> {
    // No more polls: a secondary must stay logged out, and the host is about to go down.
    this.shutDown = true;
    const report = await runShutdownSequence(
      {
        config: this.cfg!,
        control: this.control,
        finalBackup: finalBackupFor(this.ctx.config),
        runtimeSec: this.policy!.reading?.runtimeSec ?? null,
        halting: (halted) => this.noteHalt(halted),
        event: (...a) => this.ctx.event(...a),
        logger: this.ctx.logger,
      },
      reason,
      detail,
    );
    this.saveSnapshot();
    if (!report.commandOk) {
      // The host did not go down: keep watching so that we report what happens next.
      this.shutDown = false;
      this.shutdown = null;
      this.schedule(this.cfg!.pollSeconds * 1000);
    }
  }

  /** For `sentinela-agent status`; a full disk must not stop the power watch. */
  private saveSnapshot(): void {
    try {
      this.snapshot!.save(this.status().power as StatusPower);
    } catch (err) {
      this.ctx.logger.warn({ err: (err as Error).message }, `power: cannot save the status for sentinela-agent status: ${(err as Error).message}`);
    }
  }

  /** The halt time goes to disk before the shutdown command, so that the outage after the reboot leaves out the time off. */
  private noteHalt(halted: boolean): void {
    const o = this.policy!.outage;
    if (!o) return;
    o.haltedAt = halted ? Date.now() : null;
    this.store!.save(o);
  }

  status(): StatusSections {
    const cfg = this.cfg;
    if (!cfg || !this.policy) return { power: POWER_OFF };
    const p = this.policy;
    const r = p.reading;
    const state: StatusPower['state'] = this.shutdown
      ? this.shutDown ? 'shut-down' : 'shutting-down'
      : p.contact !== 'ok' && p.contact !== 'unknown' ? 'lost-contact'
      : p.mains === 'battery' ? (r?.flags.includes('LB') ? 'low-battery' : 'battery')
      : p.mains === 'mains' ? 'mains' : 'unknown';
    const last = this.store!.recent(5).find((o) => o.end !== null);
    return {
      power: {
        watch: 'on',
        role: cfg.role,
        source: this.source!.label,
        contact: p.contact,
        ...(p.contactMessage ? { contactMessage: p.contactMessage } : {}),
        ...(cfg.source.kind === 'nut' && p.lastSeenAt !== null ? { login: !cfg.source.username ? 'none' : this.loginProblem ? 'failed' : 'ok' } : {}),
        ...(this.loginProblem ? { loginMessage: this.loginProblem } : {}),
        state,
        flags: r?.flags ?? [],
        charge: r?.charge ?? null,
        runtimeSec: r?.runtimeSec ?? null,
        loadPct: r?.loadPct ?? null,
        inputVoltage: r?.inputVoltage ?? null,
        lastSeenAt: iso(p.lastSeenAt),
        onBatterySince: iso(p.onBatterySince),
        shutdownDueAt: iso(p.shutdownDueAt),
        flaps: p.flapsIgnored,
        outage: outageView(p.outage),
        lastOutage: outageView(last),
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    await this.shutdown;
    await this.source?.close();
    this.store?.close();
  }
}
