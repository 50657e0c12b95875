/**
 * A site's history for the detail page, read from the stored status messages and connections:
 * chart series (battery charge, UPS load, CPU load, fullest disk, latency), downsampled to at
 * most `points` buckets; power and WAN outages; and the backup catalogue seen over time.
 *
 * Every read skips a row SQLite cannot parse (json_valid): a row an older hub stored, nested past
 * SQLite's 1,000 levels, would otherwise fail the whole query as "malformed JSON".
 */
import type { Db } from '../store/db.js';
import { MESSAGES_SINCE } from '../store/message-hours.js';
import { downIntervals } from './link-uptime.js';

export interface Series {
  /** Unix seconds. */
  t: number[];
  charge: Array<number | null>;
  upsLoad: Array<number | null>;
  load1: Array<number | null>;
  disk: Array<number | null>;
  latency: Array<number | null>;
}

const FIELDS = ['charge', 'upsLoad', 'load1', 'disk', 'latency'] as const;

export function statusSeries(db: Db, siteId: string, from: Date, points = 600): Series {
  const rows = db
    .prepare(
      `SELECT ts,
         json_extract(payload, '$.power.charge') AS charge,
         json_extract(payload, '$.power.loadPct') AS upsLoad,
         json_extract(payload, '$.host.cpu.load1') AS load1,
         (SELECT MAX(json_extract(f.value, '$.usePct')) FROM json_each(payload, '$.host.filesystems') f) AS disk,
         coalesce(json_extract(payload, '$.network.hub.latencyMs'), json_extract(payload, '$.network.mqttRttMs'),
           (SELECT MAX(json_extract(s.value, '$.latencyMs')) FROM json_each(payload, '$.services') s)) AS latency
       FROM ${MESSAGES_SINCE} WHERE m.type = 'status' AND m.ts >= :from AND json_valid(m.payload) ORDER BY m.ts`,
    )
    .all({ site: siteId, from: from.toISOString() }) as Array<{ ts: string } & Record<(typeof FIELDS)[number], number | null>>;
  const out: Series = { t: [], charge: [], upsLoad: [], load1: [], disk: [], latency: [] };
  if (rows.length === 0) return out;
  const per = Math.max(1, Math.ceil(rows.length / points));
  // Bucket means keep the shape of a week of one-minute samples in a few hundred points.
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    out.t.push(Math.round(Date.parse(chunk[Math.floor(chunk.length / 2)]!.ts) / 1000));
    for (const f of FIELDS) {
      const vals = chunk.map((r) => r[f]).filter((v): v is number => typeof v === 'number');
      out[f].push(vals.length ? Math.round((vals.reduce((a, b) => a + b, 0) / vals.length) * 100) / 100 : null);
    }
  }
  return out;
}

export interface Outage {
  start: string;
  end: string | null;
  durationSec: number | null;
  source: 'agent' | 'hub-link';
  detail?: string;
}

/** Outages the agent reported in its power or network section (current and last), deduplicated by start. */
function reportedOutages(db: Db, siteId: string, from: Date, section: 'power' | 'network.wan'): Outage[] {
  const rows = db
    .prepare(
      `SELECT json_extract(payload, '$.${section}.outage') AS cur, json_extract(payload, '$.${section}.lastOutage') AS last
       FROM ${MESSAGES_SINCE} WHERE m.type = 'status' AND m.ts >= :from AND json_valid(m.payload) AND json_extract(payload, '$.${section}') IS NOT NULL`,
    )
    .all({ site: siteId, from: from.toISOString() }) as Array<{ cur: string | null; last: string | null }>;
  const byStart = new Map<string, Outage>();
  for (const r of rows) {
    for (const raw of [r.cur, r.last]) {
      if (!raw) continue;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (typeof o.start !== 'string') continue;
      const prev = byStart.get(o.start);
      const end = typeof o.end === 'string' ? o.end : null;
      if (prev && prev.end && !end) continue;
      byStart.set(o.start, {
        start: o.start,
        end,
        durationSec: typeof o.durationSec === 'number' ? o.durationSec : null,
        source: 'agent',
        ...(o.shutdown === true ? { detail: 'shutdown' } : typeof o.lowestCharge === 'number' ? { detail: `${o.lowestCharge}%` } : {}),
      });
    }
  }
  return [...byStart.values()].sort((a, b) => a.start.localeCompare(b.start));
}

export function outages(db: Db, siteId: string, from: Date, now = new Date(), connectedNow = false) {
  const events = (db.prepare('SELECT kind, at FROM connections WHERE site_id = ? ORDER BY at, id').all(siteId) as Array<{ kind: 'birth' | 'death'; at: string }>).map((e) => ({
    kind: e.kind,
    at: Date.parse(e.at),
  }));
  const seen = events.length > 0;
  const link: Outage[] = seen
    ? downIntervals(events, from.getTime(), now.getTime(), connectedNow).map((i) => ({
        start: new Date(i.start).toISOString(),
        end: i.end >= now.getTime() ? null : new Date(i.end).toISOString(),
        durationSec: Math.round((i.end - i.start) / 1000),
        source: 'hub-link' as const,
      }))
    : [];
  return { from: from.toISOString(), to: now.toISOString(), power: reportedOutages(db, siteId, from, 'power'), wan: reportedOutages(db, siteId, from, 'network.wan'), link };
}

export interface SnapshotEntry {
  id: string;
  source: string;
  at: string;
  storedBytes: number | null;
  locations: { local: boolean; usb: string | null; peer: boolean; offsite: boolean };
}

/** Every snapshot the site has reported in its backups section, newest first, with where it was seen. */
export function snapshotCatalogue(db: Db, siteId: string, from: Date): SnapshotEntry[] {
  const rows = db
    .prepare(
      `SELECT s.value AS src FROM ${MESSAGES_SINCE} JOIN json_each(m.payload, '$.backups.sources') s
       WHERE m.type = 'status' AND m.ts >= :from AND json_valid(m.payload) AND json_type(m.payload, '$.backups.sources') = 'array'`,
    )
    .all({ site: siteId, from: from.toISOString() }) as Array<{ src: string }>;
  const snaps = new Map<string, SnapshotEntry>();
  const get = (id: string, source: string, at: string) => {
    let e = snaps.get(id);
    if (!e) snaps.set(id, (e = { id, source, at, storedBytes: null, locations: { local: false, usb: null, peer: false, offsite: false } }));
    return e;
  };
  for (const r of rows) {
    let s: Record<string, any>;
    try {
      s = JSON.parse(r.src) as Record<string, any>;
    } catch {
      continue;
    }
    const name = typeof s.name === 'string' ? s.name : '?';
    const l = s.lastLocal;
    if (l?.snapshotId && l.at) {
      const e = get(l.snapshotId, name, l.at);
      e.locations.local = true;
      if (typeof l.storedBytes === 'number') e.storedBytes = l.storedBytes;
    }
    if (s.lastUsb?.snapshotId && s.lastUsb.at) get(s.lastUsb.snapshotId, name, s.lastUsb.at).locations.usb = String(s.lastUsb.label ?? s.lastUsb.diskId ?? 'usb');
    if (s.lastPeer?.snapshotId && s.lastPeer.at) get(s.lastPeer.snapshotId, name, s.lastPeer.at).locations.peer = true;
    if (s.lastOffsite?.snapshotId && s.lastOffsite.at) get(s.lastOffsite.snapshotId, name, s.lastOffsite.at).locations.offsite = true;
  }
  return [...snaps.values()].sort((a, b) => b.at.localeCompare(a.at)).slice(0, 500);
}
