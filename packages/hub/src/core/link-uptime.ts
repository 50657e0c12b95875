/**
 * WAN uptime as the hub saw it: the share of a window during which the site's MQTT link was
 * up (birth → death in the connections table). An agent only reaches the hub over GovNet, so
 * this is the WAN as it matters to the hub, available for every agent version.
 */
export interface LinkEvent {
  kind: 'birth' | 'death';
  at: number;
}

export interface Interval {
  start: number;
  end: number;
}

/**
 * Down intervals within [from, to], from events sorted by time. `upBefore` is the link state
 * before the first event (unknown events before the window are inferred from the first one).
 */
export function downIntervals(events: LinkEvent[], from: number, to: number, connectedNow: boolean): Interval[] {
  const before = events.filter((e) => e.at < from);
  // A site first seen inside the window is counted from its first connection, not from the window's start.
  if (before.length === 0 && events[0]?.kind === 'birth' && events[0].at > from) from = events[0].at;
  const inWindow = events.filter((e) => e.at >= from && e.at <= to);
  let up = inWindow.length > 0 ? inWindow[0]!.kind === 'death' : connectedNow;
  // Events before the window set the starting state when we have them.
  if (before.length > 0) up = before[before.length - 1]!.kind === 'birth';
  const out: Interval[] = [];
  let downSince = up ? null : from;
  for (const e of inWindow) {
    if (e.kind === 'death' && downSince === null) downSince = e.at;
    else if (e.kind === 'birth' && downSince !== null) {
      if (e.at > downSince) out.push({ start: downSince, end: e.at });
      downSince = null;
    }
  }
  if (downSince !== null && to > downSince) out.push({ start: downSince, end: to });
  return out;
}

/** Up % of [from, to], counted from the first connection when the site was first seen inside the window. */
export function uptimePct(events: LinkEvent[], from: number, to: number, connectedNow: boolean): number {
  if (events.length > 0 && events[0]!.kind === 'birth' && events[0]!.at > from && !events.some((e) => e.at < from)) from = events[0]!.at;
  if (to - from < 1000) return connectedNow ? 100 : 0;
  const down = downIntervals(events, from, to, connectedNow).reduce((n, i) => n + (i.end - i.start), 0);
  return Math.round((1000 * (to - from - down)) / (to - from)) / 10;
}
