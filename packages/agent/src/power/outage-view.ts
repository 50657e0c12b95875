/** How an outage is shown (status, events, the page's history): its time on battery leaves out the time the server was off. */
import type { PowerOutage } from '@sentinela/shared';
import type { Outage } from './policy.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The server's off time, from the shutdown command to the agent watching again after the reboot; null when it did not halt. */
export function serverOffMs(o: Outage): number | null {
  return o.haltedAt != null && o.resumedAt != null ? Math.max(0, o.resumedAt - o.haltedAt) : null;
}

/** Time on battery as the agent saw it: start to end, minus the time the server was off. */
export function onBatteryMs(o: Outage): number | null {
  return o.end === null ? null : Math.max(0, o.end - o.start - (serverOffMs(o) ?? 0));
}

export function outageView(o: Outage | null | undefined): PowerOutage | null {
  if (!o) return null;
  const on = onBatteryMs(o);
  const off = serverOffMs(o);
  return {
    start: iso(o.start)!,
    end: iso(o.end),
    durationSec: on === null ? null : Math.round(on / 1000),
    lowestCharge: o.lowestCharge,
    shutdown: o.shutdown,
    ...(off !== null ? { serverOffSec: Math.round(off / 1000) } : {}),
  };
}
