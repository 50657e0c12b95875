/**
 * The fleet overview's data: one row per site with the figures central staff look at, kept
 * in memory, so 2,000 sites filter, sort and page server-side in a few milliseconds.
 * Time-dependent parts (state, ages, urgency) are computed at read time.
 *
 * Lazy: a change only marks the site, and its row is recomputed at the next read. With no console
 * page open nothing is read, so a busy ingest costs the console nothing; with pages open, the
 * changes of a second are applied once, and a site whose status, birth and connection did not
 * change only gets its last-seen time (no JSON parsed).
 */
import type { HubConfig } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import type { SiteRow } from '../store/sites.js';
import { siteState, type SiteState } from '../core/site-view.js';
import { backupsOf, fullestDisk, networkOf, powerOf, servicesDown } from '../core/sections.js';
import { readStoredJson } from '../store/stored-json.js';
import { uptimePct, type LinkEvent } from '../core/link-uptime.js';

const DAY = 86_400_000;

export interface FleetRow {
  id: string;
  name: string | null;
  province: string | null;
  connected: number;
  lastSeenAt: string | null;
  agentVersion: string | null;
  backlog: { pending: number; oldestTs: string | null } | null;
  backup: { localAt: string | null; usbAt: string | null; offsiteAt: string | null; failed: boolean } | null;
  ups: { state: string; charge: number | null; onBattery: boolean } | null;
  wan: { pct24h: number | null; pct7d: number | null; pct30d: number | null; agentUp: boolean | null };
  usb: { attached: boolean | null; lastAttachedAt: string | null } | null;
  disk: { mount: string; usePct: number } | null;
  /** Names of the services (the clinical database) the latest status found not answering. */
  servicesDown: string[];
  alerts: { critical: number; warning: number; info: number; unacked: number };
  search: string;
}

/**
 * The overview's state: the link's (api/site-view.ts), except that a site online whose clinical
 * database or another checked service does not answer is "degraded", as its technician page says.
 */
export type FleetState = SiteState | 'degraded';

export interface FleetView extends Omit<FleetRow, 'search' | 'connected'> {
  state: FleetState;
  backupAgeSec: number | null;
  overRpo: boolean;
  urgency: number;
}

export interface FleetQuery {
  q?: string;
  province?: string;
  state?: string;
  sort?: 'urgency' | 'id' | 'name' | 'lastSeen' | 'backup' | 'province';
  offset?: number;
  limit?: number;
}

const COLLATOR = new Intl.Collator('pt', { sensitivity: 'base' });
const STATE_WEIGHT: Record<FleetState, number> = { offline: 300, degraded: 250, stale: 150, 'never-seen': 20, online: 0 };

/** What a row is built from, besides last_seen_at and the link events (which come with a birth or death). */
const STAMPED = ['last_status_at', 'last_status_stream', 'last_status_seq', 'birth_at', 'bd_seq', 'connected', 'name', 'province', 'agent_version'] as const;
type SiteStamp = Pick<SiteRow, 'last_seen_at' | (typeof STAMPED)[number]>;

function stampOf(s: SiteStamp): string {
  return STAMPED.map((k) => s[k] ?? '').join('\u001f');
}

export class FleetCache {
  private rows = new Map<string, FleetRow>();
  /** The stamp each row was built from. */
  private stamps = new Map<string, string>();
  private dirty = new Set<string>();
  private stale = true;
  private alertsStale = false;
  private readonly stampQuery;
  private readonly siteQuery;
  private readonly allSites;
  private readonly linkEvents;
  private readonly allLinkEvents;
  private readonly alertCounts;

  constructor(
    db: Db,
    private readonly config: HubConfig,
  ) {
    this.stampQuery = db.prepare(`SELECT last_seen_at, ${STAMPED.join(', ')} FROM sites WHERE id = ?`);
    this.siteQuery = db.prepare('SELECT * FROM sites WHERE id = ?');
    this.allSites = db.prepare('SELECT * FROM sites');
    this.linkEvents = db.prepare('SELECT kind, at FROM connections WHERE site_id = ? AND at >= ? ORDER BY at, id');
    this.allLinkEvents = db.prepare('SELECT site_id, kind, at FROM connections WHERE at >= ? ORDER BY site_id, at, id');
    this.alertCounts = db.prepare(
      `SELECT site_id, severity, COUNT(*) AS n, SUM(acked_at IS NULL) AS unacked FROM alerts WHERE cleared_at IS NULL AND site_id IS NOT NULL GROUP BY site_id, severity`,
    );
  }

  /** Every row is rebuilt at the next read (start-up, and periodically so that 24 h windows slide). */
  rebuildAll(): void {
    this.stale = true;
    this.dirty.clear();
  }

  /** The rows of these sites are recomputed at the next read (new messages, a connection). */
  refresh(ids: Iterable<string>): void {
    if (this.stale) return;
    for (const id of ids) this.dirty.add(id);
  }

  /** The alert counts are read again at the next read. */
  refreshAlerts(): void {
    this.alertsStale = true;
  }

  /** Applies what changed since the last read. */
  private settle(now = Date.now()): void {
    if (this.stale) {
      this.stale = false;
      this.dirty.clear();
      this.buildAll(now);
      return;
    }
    if (this.dirty.size > 0) {
      const ids = this.dirty;
      this.dirty = new Set();
      this.refreshRows(ids, now);
    }
    if (this.alertsStale) this.readAlerts();
  }

  private buildAll(now: number): void {
    const events = new Map<string, LinkEvent[]>();
    for (const r of this.allLinkEvents.all(new Date(now - 30 * DAY).toISOString()) as Array<{ site_id: string; kind: 'birth' | 'death'; at: string }>) {
      let list = events.get(r.site_id);
      if (!list) events.set(r.site_id, (list = []));
      list.push({ kind: r.kind, at: Date.parse(r.at) });
    }
    const rows = new Map<string, FleetRow>();
    const stamps = new Map<string, string>();
    for (const site of this.allSites.all() as SiteRow[]) {
      rows.set(site.id, this.build(site, events.get(site.id) ?? [], now));
      stamps.set(site.id, stampOf(site));
    }
    this.rows = rows;
    this.stamps = stamps;
    this.readAlerts();
  }

  private refreshRows(ids: Iterable<string>, now: number): void {
    for (const id of ids) {
      const current = this.stampQuery.get(id) as SiteStamp | undefined;
      const old = this.rows.get(id);
      // A first sighting changes what the uptime figures are (none before): rebuild then.
      if (current && old && this.stamps.get(id) === stampOf(current) && (old.lastSeenAt !== null || current.last_seen_at === null)) {
        old.lastSeenAt = current.last_seen_at;
        continue;
      }
      const site = current && (this.siteQuery.get(id) as SiteRow | undefined);
      if (!site) {
        this.rows.delete(id);
        this.stamps.delete(id);
        continue;
      }
      this.stamps.set(id, stampOf(site));
      const events = (this.linkEvents.all(id, new Date(now - 30 * DAY).toISOString()) as Array<{ kind: 'birth' | 'death'; at: string }>).map((e) => ({ kind: e.kind, at: Date.parse(e.at) }));
      const alerts = this.rows.get(id)?.alerts;
      const row = this.build(site, events, now);
      if (alerts) row.alerts = alerts;
      this.rows.set(id, row);
    }
  }

  private readAlerts(): void {
    this.alertsStale = false;
    for (const row of this.rows.values()) row.alerts = { critical: 0, warning: 0, info: 0, unacked: 0 };
    for (const r of this.alertCounts.all() as Array<{ site_id: string; severity: 'critical' | 'warning' | 'info'; n: number; unacked: number }>) {
      const row = this.rows.get(r.site_id);
      if (!row) continue;
      row.alerts[r.severity] += r.n;
      row.alerts.unacked += r.unacked;
    }
  }

  /** Builds what is stale now rather than at the next read (start-up, and when pages are open). */
  warm(): void {
    this.settle();
  }

  get(id: string): FleetRow | undefined {
    this.settle();
    return this.rows.get(id);
  }

  ids(): string[] {
    this.settle();
    return [...this.rows.keys()];
  }

  private build(site: SiteRow, events: LinkEvent[], now: number): FleetRow {
    const status = readStoredJson(site.last_status_json);
    const birth = readStoredJson(site.birth_json);
    const power = powerOf(status);
    const net = networkOf(status);
    const backups = backupsOf(status);
    // The backlog from whichever is newer, the latest status or the birth (as the site API does).
    const outboxOf = (m: Record<string, unknown> | null) => (m?.outbox && typeof m.outbox === 'object' ? (m.outbox as { pending?: unknown; oldestTs?: unknown }) : null);
    const fromStatus = outboxOf(status);
    const fromBirth = outboxOf(birth);
    const useBirth = fromBirth && (!fromStatus || String(birth?.ts ?? '') > String(status?.ts ?? ''));
    const o = useBirth ? fromBirth : fromStatus;
    const seen = site.last_seen_at !== null;
    const pct = (days: number) => (seen ? uptimePct(events, now - days * DAY, now, site.connected === 1) : null);
    return {
      id: site.id,
      name: site.name,
      province: site.province,
      connected: site.connected,
      lastSeenAt: site.last_seen_at,
      agentVersion: site.agent_version,
      backlog: o && typeof o.pending === 'number' ? { pending: o.pending, oldestTs: typeof o.oldestTs === 'string' ? o.oldestTs : null } : null,
      backup: backups ? { localAt: backups.localAt, usbAt: backups.usbAt, offsiteAt: backups.offsiteAt, failed: backups.failed } : null,
      ups: power ? { state: power.state, charge: power.charge, onBattery: power.onBattery } : null,
      wan: { pct24h: pct(1), pct7d: pct(7), pct30d: pct(30), agentUp: net?.wanUp ?? null },
      usb: backups ? { attached: backups.usbAttached, lastAttachedAt: backups.usbLastAttachedAt } : null,
      disk: fullestDisk(status),
      servicesDown: servicesDown(status).map((d) => d.name),
      alerts: { critical: 0, warning: 0, info: 0, unacked: 0 },
      search: `${site.id} ${site.name ?? ''} ${site.province ?? ''}`.toLowerCase(),
    };
  }

  /** The time-dependent figures of a row: cheap, computed for every row of every query. */
  private judge(row: FleetRow, now: number) {
    const link = siteState({ last_seen_at: row.lastSeenAt, connected: row.connected }, this.config.sites, now);
    const state: FleetState = link === 'online' && row.servicesDown.length > 0 ? 'degraded' : link;
    const backupAgeSec = row.backup?.localAt ? Math.max(0, Math.round((now - Date.parse(row.backup.localAt)) / 1000)) : null;
    const overRpo = row.backup !== null && (backupAgeSec === null || backupAgeSec > this.config.alerts.rpoHours * 3600);
    // Most urgent first: unacknowledged critical alerts, then power, silence, stale backups.
    const urgency =
      row.alerts.critical * 1000 +
      row.alerts.warning * 100 +
      Math.min(row.alerts.unacked, 9) * 50 +
      (row.ups?.onBattery ? 400 : 0) +
      STATE_WEIGHT[state] +
      (overRpo ? 120 : 0) +
      (row.backup?.failed ? 200 : 0) +
      ((row.disk?.usePct ?? 0) >= this.config.alerts.lowDiskPct ? 80 : 0);
    return { row, state, backupAgeSec, overRpo, urgency };
  }

  view(row: FleetRow, now = Date.now()): FleetView {
    return this.toView(this.judge(row, now));
  }

  private toView(j: ReturnType<FleetCache['judge']>): FleetView {
    const { search: _s, connected: _c, ...rest } = j.row;
    return { ...rest, state: j.state, backupAgeSec: j.backupAgeSec, overRpo: j.overRpo, urgency: j.urgency };
  }

  /** Filter, sort and page; the counts are over the whole fleet (the headline) and over the filter. */
  query(q: FleetQuery, now = Date.now()) {
    this.settle(now);
    const text = q.q?.trim().toLowerCase() ?? '';
    const counts: Record<string, number> = { total: 0, online: 0, degraded: 0, stale: 0, offline: 0, 'never-seen': 0, onBattery: 0, overRpo: 0 };
    const alertCounts = { critical: 0, warning: 0, info: 0, unacked: 0 };
    const provinces = new Set<string>();
    const matched: Array<ReturnType<FleetCache['judge']>> = [];
    for (const row of this.rows.values()) {
      const j = this.judge(row, now);
      counts.total!++;
      counts[j.state]!++;
      if (row.ups?.onBattery) counts.onBattery!++;
      if (j.overRpo) counts.overRpo!++;
      alertCounts.critical += row.alerts.critical;
      alertCounts.warning += row.alerts.warning;
      alertCounts.info += row.alerts.info;
      alertCounts.unacked += row.alerts.unacked;
      if (row.province) provinces.add(row.province);
      if (q.province && row.province !== q.province) continue;
      if (q.state && j.state !== q.state && !(q.state === 'alerting' && row.alerts.unacked > 0) && !(q.state === 'battery' && row.ups?.onBattery) && !(q.state === 'rpo' && j.overRpo)) continue;
      if (text && !row.search.includes(text)) continue;
      matched.push(j);
    }
    type J = (typeof matched)[number];
    // One collator for the whole sort: String.localeCompare builds one per call and is ~10x slower.
    const c = COLLATOR.compare;
    const byId = (a: J, b: J) => (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0);
    const cmp: Record<string, (a: J, b: J) => number> = {
      urgency: (a, b) => b.urgency - a.urgency || byId(a, b),
      id: byId,
      name: (a, b) => c(a.row.name ?? a.row.id, b.row.name ?? b.row.id) || byId(a, b),
      province: (a, b) => c(a.row.province ?? '', b.row.province ?? '') || byId(a, b),
      lastSeen: (a, b) => { const x = a.row.lastSeenAt ?? '', y = b.row.lastSeenAt ?? ''; return x < y ? -1 : x > y ? 1 : byId(a, b); },
      backup: (a, b) => (b.backupAgeSec ?? Infinity) - (a.backupAgeSec ?? Infinity) || byId(a, b),
    };
    matched.sort(cmp[q.sort ?? 'urgency'] ?? cmp.urgency!);
    const offset = q.offset ?? 0;
    const limit = q.limit ?? 100;
    return {
      counts,
      alerts: alertCounts,
      provinces: [...provinces].sort(),
      matched: matched.length,
      offset,
      limit,
      sites: matched.slice(offset, offset + limit).map((j) => this.toView(j)),
    };
  }
}
