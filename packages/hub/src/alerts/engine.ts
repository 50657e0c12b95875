/**
 * The alert engine: evaluates the rules for the sites that changed (within a second of their
 * messages being committed) and for every site every `alerts.evaluateSeconds`, then raises,
 * updates and clears alerts in one transaction. An alert clears only after its condition has
 * been gone for `clearHoldMs`, so a condition that comes and goes keeps one alert open instead
 * of raising it again and again. During a maintenance window a site raises nothing new.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { HubConfig, Logger } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import type { SiteRow } from '../store/sites.js';
import { backupsOf, fullestDisk, powerOf, servicesDown } from '../core/sections.js';
import { readStoredJson } from '../store/stored-json.js';
import { drillFacts } from '../store/drills.js';
import { evaluateCerts, evaluateSite, type Wanted } from './rules.js';
import { clearAlert, currentMaintenance, openAlerts, raiseAlert, raisedSince, updateAlert, type AlertRow } from './store.js';
import type { Webhook } from './webhook.js';
import type { Cooldown } from '../limits/refusals.js';

export interface AlertEngineOptions {
  db: Db;
  config: HubConfig;
  logger: Logger;
  webhook: Webhook;
  clearHoldMs?: number;
  /** A site's cool-down for refused messages, while it lasts (limits/refusals.ts). */
  cooldownOf?: (siteId: string) => Cooldown | null;
}

export interface Changes {
  raised: number;
  cleared: number;
  updated: number;
  sites: Set<string>;
}

export class AlertEngine {
  private readonly absentSince = new Map<number, number>();
  private readonly log: Logger;
  private readonly clearHoldMs: number;
  private readonly siteQuery;
  private readonly allSiteIds;
  private readonly births;

  constructor(private readonly o: AlertEngineOptions) {
    this.log = o.logger.child({ component: 'alerts' });
    this.clearHoldMs = o.clearHoldMs ?? o.config.alerts.clearHoldMinutes * 60_000;
    this.siteQuery = o.db.prepare('SELECT id, enrolled_at, last_seen_at, last_status_at, last_status_json FROM sites WHERE id = ?');
    this.allSiteIds = o.db.prepare('SELECT id FROM sites').pluck();
    this.births = o.db.prepare("SELECT COUNT(*) FROM connections WHERE site_id = ? AND kind = 'birth' AND at >= ?").pluck();
  }

  evaluateAll(now = Date.now()): Changes {
    const changes = this.evaluateSites(this.allSiteIds.all() as string[], now);
    const hub = this.evaluateHub(now);
    changes.raised += hub.raised;
    changes.cleared += hub.cleared;
    changes.updated += hub.updated;
    return changes;
  }

  evaluateSites(ids: Iterable<string>, now = Date.now()): Changes {
    const cfg = this.o.config.alerts;
    const since = new Date(now - cfg.flapWindowMinutes * 60_000).toISOString();
    const maint = currentMaintenance(this.o.db, new Date(now)).filter((m) => Date.parse(m.starts_at) <= now);
    const everywhere = maint.some((m) => m.site_id === null);
    const inMaint = new Set(maint.map((m) => m.site_id));
    const changes: Changes = { raised: 0, cleared: 0, updated: 0, sites: new Set() };
    this.o.db.transaction(() => {
      for (const id of ids) {
        const site = this.siteQuery.get(id) as Pick<SiteRow, 'id' | 'enrolled_at' | 'last_seen_at' | 'last_status_at' | 'last_status_json'> | undefined;
        if (!site) continue;
        const status = readStoredJson(site.last_status_json);
        const drills = drillFacts(this.o.db, id);
        const wanted = evaluateSite(
          {
            lastSeenAt: site.last_seen_at,
            statusFresh: site.last_status_at !== null && now - Date.parse(site.last_status_at) <= this.o.config.sites.offlineAfterSeconds * 1000,
            power: powerOf(status),
            backups: backupsOf(status),
            fullest: fullestDisk(status),
            servicesDown: servicesDown(status),
            connectsInWindow: this.births.get(id, since) as number,
            raisedInWindow: raisedSince(this.o.db, id, since),
            cooldown: this.o.cooldownOf?.(id) ?? null,
            drills: {
              last: drills.last && {
                at: drills.last.drill.finishedAt,
                ok: drills.last.drill.ok,
                failures: drills.last.drill.results.filter((r) => !r.ok).map((r) => `${r.source} from ${r.location}: ${r.problems.join(', ')}`),
              },
              lastPassAt: drills.lastPassAt,
              since: site.enrolled_at,
            },
          },
          cfg,
          now,
        );
        this.apply(id, wanted, everywhere || inMaint.has(id), now, changes);
      }
    }).immediate();
    return changes;
  }

  evaluateHub(now = Date.now()): Changes {
    const certs: Array<{ file: string; validTo: number }> = [];
    for (const tls of [this.o.config.mqtt.tls, this.o.config.http.tls]) {
      if (!tls) continue;
      try {
        certs.push({ file: tls.certFile, validTo: Date.parse(new X509Certificate(readFileSync(tls.certFile)).validTo) });
      } catch (err) {
        this.log.warn({ file: tls.certFile, err: (err as Error).message }, `cannot read certificate ${tls.certFile}: ${(err as Error).message}`);
      }
    }
    const changes: Changes = { raised: 0, cleared: 0, updated: 0, sites: new Set() };
    this.o.db.transaction(() => this.apply(null, evaluateCerts(certs, this.o.config.alerts, now), false, now, changes)).immediate();
    return changes;
  }

  private apply(siteId: string | null, wanted: Wanted[], maintenance: boolean, now: number, changes: Changes): void {
    const at = new Date(now).toISOString();
    const open = new Map(openAlerts(this.o.db, siteId).map((a) => [a.rule, a] as const));
    for (const w of wanted) {
      const cur = open.get(w.rule);
      if (cur) {
        this.absentSince.delete(cur.id);
        if (cur.severity !== w.severity || cur.message !== w.message) {
          updateAlert(this.o.db, cur, w, at);
          changes.updated++;
          if (siteId) changes.sites.add(siteId);
          if (cur.severity !== w.severity) this.o.webhook.send('updated', { ...cur, severity: w.severity, message: w.message });
        }
        continue;
      }
      if (maintenance) continue;
      const row = raiseAlert(this.o.db, siteId, w, at);
      changes.raised++;
      if (siteId) changes.sites.add(siteId);
      this.log.info({ site: siteId, rule: w.rule, severity: w.severity }, `alert raised: ${siteId ?? 'hub'} ${w.rule}: ${w.message}`);
      this.o.webhook.send('raised', alertJson(row));
    }
    const still = new Set(wanted.map((w) => w.rule));
    for (const a of open.values()) {
      if (still.has(a.rule)) continue;
      const since = this.absentSince.get(a.id) ?? now;
      this.absentSince.set(a.id, since);
      if (now - since < this.clearHoldMs) continue;
      clearAlert(this.o.db, a.id, at);
      this.absentSince.delete(a.id);
      changes.cleared++;
      if (siteId) changes.sites.add(siteId);
      this.log.info({ site: siteId, rule: a.rule }, `alert cleared: ${siteId ?? 'hub'} ${a.rule}`);
      this.o.webhook.send('cleared', { ...alertJson(a), clearedAt: at });
    }
  }
}

export function alertJson(a: AlertRow) {
  return {
    id: a.id,
    siteId: a.site_id,
    rule: a.rule,
    severity: a.severity,
    message: a.message,
    data: a.data ? (JSON.parse(a.data) as Record<string, unknown>) : null,
    raisedAt: a.raised_at,
    updatedAt: a.updated_at,
    clearedAt: a.cleared_at,
    ackedAt: a.acked_at,
    ackedBy: a.acked_by,
  };
}
