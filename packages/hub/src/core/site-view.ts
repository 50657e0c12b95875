/** What the API and the console say about a site, computed from its row. */
import type { HubConfig } from '@sentinela/shared';
import type { EventRow, SiteRow, StreamRow } from '../store/sites.js';
import { readStoredJson, storedJsonProblem } from '../store/stored-json.js';
import { servicesDown } from './sections.js';

export const SITE_STATES = ['online', 'stale', 'offline', 'never-seen'] as const;
export type SiteState = (typeof SITE_STATES)[number];

/**
 * never-seen: no message ever. offline: a death (or the hub restarted and the agent has not
 * reconnected), or silent longer than offlineAfterSeconds. stale: silent longer than
 * staleAfterSeconds. online: otherwise.
 */
export function siteState(row: Pick<SiteRow, 'last_seen_at' | 'connected'>, sites: HubConfig['sites'], now = Date.now()): SiteState {
  if (!row.last_seen_at) return 'never-seen';
  const ageSec = (now - Date.parse(row.last_seen_at)) / 1000;
  if (!row.connected || ageSec > sites.offlineAfterSeconds) return 'offline';
  if (ageSec > sites.staleAfterSeconds) return 'stale';
  return 'online';
}


export interface Backlog {
  pending: number;
  pendingBytes: number;
  oldestTs: string | null;
  thinned: number;
  /** Which message the numbers come from. */
  source: 'status' | 'birth';
  at: string;
}

/** The agent's outbox backlog from whichever is newer (by the agent's own clock): the latest status or the birth. */
function backlogOf(status: Record<string, unknown> | null, birth: Record<string, unknown> | null): Backlog | null {
  const candidates: Backlog[] = [];
  for (const [source, m] of [['status', status], ['birth', birth]] as const) {
    const o = m?.outbox as Record<string, unknown> | undefined;
    if (o && typeof o.pending === 'number' && typeof m?.ts === 'string') {
      candidates.push({
        pending: o.pending,
        pendingBytes: Number(o.pendingBytes ?? 0),
        oldestTs: typeof o.oldestTs === 'string' ? o.oldestTs : null,
        thinned: Number(o.thinned ?? 0),
        source,
        at: m.ts,
      });
    }
  }
  candidates.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  return candidates[0] ?? null;
}

/**
 * Seqs of `stream` the agent dropped on purpose when its outbox was full: the cumulative
 * `outbox.thinned` of that stream's latest status or birth (the larger). They are gaps by design,
 * not losses.
 */
function thinnedOf(stream: string, status: Record<string, unknown> | null, birth: Record<string, unknown> | null): number {
  let n = 0;
  for (const m of [status, birth]) {
    const thinned = (m?.outbox as Record<string, unknown> | undefined)?.thinned;
    if (m?.stream === stream && typeof thinned === 'number' && Number.isFinite(thinned)) n = Math.max(n, thinned);
  }
  return n;
}

export function siteView(row: SiteRow, streams: StreamRow[], sites: HubConfig['sites'], now = Date.now()) {
  const status = readStoredJson(row.last_status_json);
  const birth = readStoredJson(row.birth_json);
  const gaps = streams.map((s) => {
    const thinned = thinnedOf(s.stream, status, birth);
    // Never below 0: a report of thinned rows can arrive before the newer rows that show the gap, and a late seq inside a jump is counted twice.
    const missing = Math.max(0, s.max_seq - s.received_count - thinned - s.jumped);
    return { stream: s.stream, maxSeq: s.max_seq, received: s.received_count, thinned, jumped: s.jumped, missing, lastAt: s.last_at };
  });
  return {
    id: row.id,
    name: row.name,
    province: row.province,
    state: siteState(row, sites, now),
    connected: row.connected === 1,
    lastSeenAt: row.last_seen_at,
    enrolledAt: row.enrolled_at,
    agentVersion: row.agent_version,
    latestStatus: status,
    /** Why the stored latest status is not shown (a row an older hub stored), else null. */
    latestStatusUnreadable: status === null && row.last_status_json !== null ? storedJsonProblem(row.last_status_json) : null,
    backlog: backlogOf(status, birth),
    /** Services the latest status found not answering (the site shows "degraded" while online). */
    servicesDown: servicesDown(status).map((d) => d.name),
    messagesReceived: streams.reduce((n, s) => n + s.received_count, 0),
    missing: gaps.reduce((n, g) => n + g.missing, 0),
    gaps,
  };
}
export type SiteView = ReturnType<typeof siteView>;

/** A stored event as the API and the site bundle show it; one that cannot be served keeps its place, flagged. */
export function eventView(e: EventRow): Record<string, unknown> {
  const event = readStoredJson(e.payload);
  if (event) return { ...event, receivedAt: e.received_at };
  return { stream: e.stream, seq: e.seq, ts: e.ts, receivedAt: e.received_at, unreadable: storedJsonProblem(e.payload) ?? 'not a JSON object' };
}
