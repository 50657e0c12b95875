/**
 * Alert rules as pure functions: given what the hub knows about a site now, which alerts
 * should be open. The engine diffs that against the open alerts (raise, update, clear).
 * An alert's `data` carries every parameter its words need: the console, the CLI and the webhook's
 * readers word it from the rule and the data in their language (console/i18n.ts `alert_*`); `message`
 * is the English sentence for logs and for readers that know no catalogue.
 */
import type { HubConfig } from '@sentinela/shared';
import type { BackupSummary, PowerSummary, ServiceDown } from '../core/sections.js';
import type { Cooldown } from '../limits/refusals.js';

export const RULES = ['silent', 'backup-rpo', 'on-battery', 'low-disk', 'no-usb', 'verify-failed', 'cert-expiry', 'flapping', 'noisy', 'drill-failed', 'drill-overdue', 'service-down'] as const;
export type Rule = (typeof RULES)[number];
export type Severity = 'info' | 'warning' | 'critical';

export interface Wanted {
  rule: Rule;
  severity: Severity;
  message: string;
  data?: Record<string, unknown>;
}

export interface SiteFacts {
  lastSeenAt: string | null;
  /** The latest status is recent: a site draining an old backlog must not raise alerts about the past. */
  statusFresh: boolean;
  power: PowerSummary | null;
  backups: BackupSummary | null;
  fullest: { mount: string; usePct: number } | null;
  /** Services of the latest status that do not answer (the clinical database refusing connections). */
  servicesDown?: ServiceDown[];
  /** Births (connections) within the flap window. */
  connectsInWindow: number;
  /** Alerts of other rules raised within the flap window. */
  raisedInWindow: number;
  /** The hub's cool-down of the site for too many refused messages (limits/refusals.ts), while it lasts. */
  cooldown?: Cooldown | null;
  /** Restore drills: the newest (its failing copies), the newest that passed, and since when the site could have drilled (enrolment). */
  drills?: { last: { at: string; ok: boolean; failures: string[] } | null; lastPassAt: string | null; since: string | null };
}

const hours = (ms: number) => Math.round(ms / 360_000) / 10;

export function evaluateSite(f: SiteFacts, cfg: HubConfig['alerts'], now: number): Wanted[] {
  const out: Wanted[] = [];
  if (f.cooldown) {
    const c = f.cooldown;
    out.push({
      rule: 'noisy',
      severity: 'warning',
      message: `disconnected by the hub until ${c.until}: ${c.refusals} refused messages in a short time (last: ${c.reason}); cool-down ${c.strike} in a row`,
      data: { until: c.until, refusals: c.refusals, reason: c.reason, strike: c.strike },
    });
  }
  const flapping = f.connectsInWindow > cfg.flapConnects || f.raisedInWindow >= cfg.flapConnects;
  if (flapping) {
    out.push({
      rule: 'flapping',
      severity: 'warning',
      message: `unstable: ${f.connectsInWindow} connections and ${f.raisedInWindow} alerts in ${cfg.flapWindowMinutes} min; other alerts of this site are held until it settles`,
      data: { connects: f.connectsInWindow, alerts: f.raisedInWindow, minutes: cfg.flapWindowMinutes },
    });
  }
  if (f.lastSeenAt) {
    const silentMs = now - Date.parse(f.lastSeenAt);
    if (silentMs > cfg.silentAfterMinutes * 60_000) {
      out.push({ rule: 'silent', severity: silentMs > 86_400_000 ? 'critical' : 'warning', message: `no message for ${hours(silentMs)} h (since ${f.lastSeenAt})`, data: { since: f.lastSeenAt } });
    }
  }
  if (!f.statusFresh) return flapping ? out.filter((w) => w.rule === 'flapping' || w.rule === 'silent' || w.rule === 'noisy') : out;
  if (f.power?.onBattery) {
    const low = f.power.state === 'low-battery' || f.power.state === 'shutting-down';
    out.push({
      rule: 'on-battery',
      severity: low ? 'critical' : 'warning',
      message: `on UPS battery${f.power.onBatterySince ? ` since ${f.power.onBatterySince}` : ''}${f.power.charge !== null ? `, charge ${f.power.charge}%` : ''}${low ? ' (low battery)' : ''}`,
      data: { state: f.power.state, charge: f.power.charge, since: f.power.onBatterySince },
    });
  }
  const down = f.servicesDown ?? [];
  if (down.length > 0) {
    // Critical, as the technician page's "urgent action": the clinic cannot work without its database.
    out.push({
      rule: 'service-down',
      severity: 'critical',
      message: `not answering: ${down.map((s) => `${s.name}${s.target ? ` at ${s.target}` : ''}${s.error ? ` (${s.error})` : ''}`).join('; ')}`.slice(0, 500),
      data: { services: down.map((s) => s.name), targets: down.map((s) => s.target), errors: down.map((s) => s.error) },
    });
  }
  if (f.fullest && f.fullest.usePct >= cfg.lowDiskPct) {
    out.push({
      rule: 'low-disk',
      severity: f.fullest.usePct >= 97 ? 'critical' : 'warning',
      message: `disk ${f.fullest.mount} is ${f.fullest.usePct}% full`,
      data: { mount: f.fullest.mount, usePct: f.fullest.usePct },
    });
  }
  const b = f.backups;
  if (b) {
    const rpoMs = cfg.rpoHours * 3_600_000;
    if (b.sources.length > 0 && (!b.localAt || now - Date.parse(b.localAt) > rpoMs)) {
      const age = b.localAt ? now - Date.parse(b.localAt) : null;
      out.push({
        rule: 'backup-rpo',
        severity: age === null || age > 24 * 3_600_000 ? 'critical' : 'warning',
        message: b.localAt ? `last good backup ${hours(age!)} h ago, older than the RPO of ${cfg.rpoHours} h` : 'no complete backup yet',
        data: { lastAt: b.localAt, rpoHours: cfg.rpoHours },
      });
    }
    const failed = b.sources.filter((s) => s.lastFailure);
    if (failed.length > 0) {
      out.push({
        rule: 'verify-failed',
        severity: 'critical',
        message: `backup or verification failed: ${failed.map((s) => `${s.name}: ${s.lastFailure!.error}`).join('; ')}`.slice(0, 500),
        data: { sources: failed.map((s) => s.name), failures: failed.map((s) => ({ source: s.name, error: s.lastFailure!.error })) },
      });
    }
    const lastUsb = b.usbLastAttachedAt ? Date.parse(b.usbLastAttachedAt) : null;
    // Only a site with USB disks configured: its agent says so (usbRotationDays), or, from an older
    // agent that does not, it has registered a disk at some time.
    const usbConfigured = b.usbRotationDays === undefined ? b.disks.length > 0 : b.usbRotationDays !== null;
    if (usbConfigured && b.usbAttached === false && (lastUsb === null || now - lastUsb > cfg.noUsbDays * 86_400_000)) {
      out.push({
        rule: 'no-usb',
        severity: 'warning',
        message: lastUsb === null ? 'no USB backup disk has ever been attached' : `no USB backup disk attached since ${b.usbLastAttachedAt}`,
        data: { lastAttachedAt: b.usbLastAttachedAt, days: cfg.noUsbDays },
      });
    }
  }
  const d = f.drills;
  if (d?.last && !d.last.ok) {
    out.push({
      rule: 'drill-failed',
      severity: 'critical',
      message: `restore drill of ${d.last.at} failed: ${d.last.failures.join('; ')}`.slice(0, 500),
      data: { at: d.last.at, failures: d.last.failures },
    });
  }
  const drillFrom = d?.lastPassAt ?? d?.since ?? null;
  if (d && b && b.sources.length > 0 && drillFrom && now - Date.parse(drillFrom) > cfg.drillOverdueDays * 86_400_000) {
    out.push({
      rule: 'drill-overdue',
      severity: 'warning',
      message: d.lastPassAt ? `no passing restore drill since ${d.lastPassAt} (more than ${cfg.drillOverdueDays} days)` : `no passing restore drill in the ${cfg.drillOverdueDays} days since enrolment`,
      data: { lastPassAt: d.lastPassAt, days: cfg.drillOverdueDays },
    });
  }
  // While a site flaps, hold the rest: one alert, not fifty (open ones stay until they clear).
  return flapping ? out.filter((w) => w.rule === 'flapping' || w.rule === 'silent' || w.rule === 'noisy') : out;
}

/** Certificates of the hub itself (MQTT and HTTPS listeners). */
export function evaluateCerts(certs: Array<{ file: string; validTo: number }>, cfg: HubConfig['alerts'], now: number): Wanted[] {
  const near = certs.filter((c) => c.validTo - now < cfg.certExpiryDays * 86_400_000).sort((a, b) => a.validTo - b.validTo);
  if (near.length === 0) return [];
  const first = near[0]!;
  const expired = first.validTo <= now;
  return [
    {
      rule: 'cert-expiry',
      severity: expired ? 'critical' : 'warning',
      message: `${expired ? 'expired' : 'expires'} ${new Date(first.validTo).toISOString()}: ${near.map((c) => c.file).join(', ')}`,
      data: { files: near.map((c) => c.file), validTo: new Date(first.validTo).toISOString() },
    },
  ];
}
