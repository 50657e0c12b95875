/**
 * WAN up/down as outages with durations, and daily uptime. Pure: fed one round's verdict and its time.
 * Down after `downAfter` failed rounds in a row; the outage starts at the first failed round and
 * ends at the first good one. A LAN fault is not a WAN outage (we cannot tell), so LAN-down
 * rounds are left out of both the outage and the uptime.
 */
export interface WanOutageRec {
  start: number;
  end: number | null;
}

export type WanEvent = { type: 'down'; start: number } | { type: 'up'; outage: WanOutageRec & { end: number } };

export class WanTracker {
  up: boolean | null = null;
  since: number | null = null;
  outage: WanOutageRec | null = null;
  private failStart: number | null = null;
  private fails = 0;
  private last: number | null = null;

  constructor(
    private readonly downAfter: number,
    /** Called with (day, observedMs, upMs) for each slice of time between rounds. */
    private readonly account: (day: string, observedMs: number, upMs: number) => void,
    restored: WanOutageRec | null = null,
  ) {
    this.outage = restored;
    if (restored) {
      this.up = false;
      this.since = restored.start;
      this.failStart = restored.start;
      this.fails = downAfter;
    }
  }

  observe(hubUp: boolean, lanUp: boolean | null, now: number): WanEvent[] {
    const out: WanEvent[] = [];
    if (this.last !== null && lanUp !== false && this.up !== null) {
      const dt = Math.min(now - this.last, 10 * 60_000); // a sleeping host does not count as hours of uptime
      this.account(dayOf(now), dt, this.up ? dt : 0);
    }
    this.last = now;
    if (lanUp === false && !hubUp) return out;
    if (hubUp) {
      this.fails = 0;
      this.failStart = null;
      if (this.up !== true) {
        if (this.outage) {
          const done = { start: this.outage.start, end: now };
          out.push({ type: 'up', outage: done });
          this.outage = null;
        }
        this.up = true;
        this.since = now;
      }
      return out;
    }
    this.fails++;
    this.failStart ??= now;
    if (this.fails >= this.downAfter && this.up !== false) {
      this.up = false;
      this.since = this.failStart;
      this.outage = { start: this.failStart, end: null };
      out.push({ type: 'down', start: this.failStart });
    }
    return out;
  }
}

/** Local calendar day, YYYY-MM-DD. */
export function dayOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
