/**
 * Every refusal at the hub's door goes through here: a failed login, a malformed or oversized
 * packet, a message the hub will not take. Each is counted in sentinela_hub_messages_refused_total
 * by reason (every one), logged within the per-source limit (shared runtime/log-limit.ts), and, when a logged-in
 * site sent it, counted against that site.
 *
 * A noisy site cannot starve the others: past mqtt.noisySites.maxRefusals within windowSeconds the
 * site is disconnected and its reconnects refused for a cool-down that doubles at each repeat
 * (shared runtime/backoff.ts, as the console's login throttle). The cool-down is a fact the alert engine
 * turns into a "noisy" alert for the site.
 */
import { clip, RateLimitedLog, WindowCounter, type HubConfig, type Logger } from '@sentinela/shared';
import type { HubMetrics } from '../metrics.js';
import { Backoff } from '@sentinela/shared';

export interface Refusal {
  /** The logged-in site the refusal counts against; null when no site is proven (a login, a packet before CONNECT). */
  site: string | null;
  /** Where it came from, when known: the log limit's key when there is no site. */
  remote?: string | undefined;
  /** The metric's label. */
  reason: string;
  /** The log line (bounded by the limiter). */
  text: string;
  fields?: Record<string, unknown>;
}

export interface Cooldown {
  /** When its reconnects are taken again (ISO). */
  until: string;
  seconds: number;
  /** Refusals in the window that started it, and the last one's reason. */
  refusals: number;
  reason: string;
  /** How many cool-downs in a row (the backoff's count). */
  strike: number;
}

/** Errors whose refusal is logged already: the broker's error events skip them (one line per refusal, not two). */
const logged = new WeakSet<Error>();

/** An error for the broker to close a connection with, its refusal already logged. */
export function refusalError(text: string): Error {
  const err = new Error(clip(text, 500));
  logged.add(err);
  return err;
}

export function isLoggedRefusal(err: Error): boolean {
  return logged.has(err);
}

/** A site's strikes are forgotten after this long without one. */
const FORGET_MS = 3_600_000;

export class Refusals {
  /** Closes a site's live connection (set by the embedded broker); absent: the transport cannot. */
  disconnect: ((siteId: string) => void) | null = null;
  /** Told when a site starts a cool-down (the console re-evaluates its alerts). */
  onCooldown: ((siteId: string) => void) | null = null;
  private readonly log: RateLimitedLog;
  private readonly counts: WindowCounter;
  private readonly backoff: Backoff;
  private readonly cooldowns = new Map<string, Cooldown>();
  private readonly now: () => number;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: HubMetrics,
    private readonly limits: HubConfig['mqtt']['noisySites'],
    now: () => number = Date.now,
  ) {
    this.now = now;
    this.log = new RateLimitedLog(logger, { perWindow: 10, windowMs: 60_000, now, note: 'the metrics count every one' });
    this.counts = new WindowCounter(limits.windowSeconds * 1000);
    this.backoff = new Backoff({ free: 1, baseMs: limits.cooldownSeconds * 1000, maxMs: limits.maxCooldownSeconds * 1000, forgetMs: FORGET_MS });
  }

  refuse(r: Refusal): void {
    this.metrics.refused.inc({ reason: r.reason });
    const key = r.site !== null ? `site ${r.site}` : (r.remote ?? 'an unknown address');
    this.log.warn(key, { site: r.site, remote: r.remote, reason: r.reason, ...r.fields }, r.text);
    if (r.site !== null) this.count(r.site, r.reason);
  }

  /** A line about a site or address that is not a refusal (a wrong clock), under the same limit. */
  notice(key: string, fields: Record<string, unknown>, text: string): void {
    this.log.warn(key, fields, text);
  }

  /** The site's cool-down while it lasts, else null. */
  cooldownOf(site: string): Cooldown | null {
    const c = this.cooldowns.get(site);
    if (!c) return null;
    if (this.backoff.waitMs(site, this.now()) > 0) return c;
    this.cooldowns.delete(site);
    return null;
  }

  close(): void {
    this.log.close();
  }

  private count(site: string, reason: string): void {
    const now = this.now();
    const { n } = this.counts.add(site, now);
    if (n <= this.limits.maxRefusals || this.cooldownOf(site)) return;
    this.counts.reset(site);
    const strike = this.backoff.failed(site, now);
    const ms = this.backoff.waitMs(site, now);
    const c: Cooldown = { until: new Date(now + ms).toISOString(), seconds: Math.round(ms / 1000), refusals: n, reason, strike };
    this.cooldowns.set(site, c);
    this.metrics.siteCooldowns.inc();
    // Not through the limiter, whose lines for this site may be used up: at most one per cool-down.
    this.logger.warn(
      { site, refusals: n, windowSeconds: this.limits.windowSeconds, cooldownSeconds: c.seconds, strike, reason },
      `site ${clip(site)} sent ${n} refused messages within ${this.limits.windowSeconds} s (last: ${reason}): disconnected, and its reconnects refused for ${c.seconds} s (cool-down ${strike} in a row)`,
    );
    this.disconnect?.(site);
    this.onCooldown?.(site);
  }
}
