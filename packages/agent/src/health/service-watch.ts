/**
 * Turns successive service checks into events, only on a change: `service.down` when a service
 * stops answering (or is down at the first check), `service.up` when it answers again.
 * A service that stays up or stays down produces nothing.
 */
import type { Severity } from '@sentinela/shared';
import type { ServiceCheck } from './service-probe.js';

export interface ServiceEvent {
  code: 'service.down' | 'service.up';
  severity: Severity;
  message: string;
  data: Record<string, unknown>;
}

interface State {
  up: boolean;
  since: number;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 360) / 10} h`;
}

export class ServiceWatch {
  private readonly state = new Map<string, State>();

  update(checks: readonly ServiceCheck[], now = Date.now()): ServiceEvent[] {
    const events: ServiceEvent[] = [];
    for (const c of checks) {
      const prev = this.state.get(c.name);
      if (prev && prev.up === c.up) continue;
      this.state.set(c.name, { up: c.up, since: now });
      if (!c.up) {
        events.push({
          code: 'service.down',
          severity: 'warning',
          message: `Service ${c.name} at ${c.target} is not answering: ${c.error ?? 'unknown error'}`,
          data: { name: c.name, target: c.target, error: c.error ?? null },
        });
      } else if (prev) {
        events.push({
          code: 'service.up',
          severity: 'info',
          message: `Service ${c.name} at ${c.target} is answering again after ${duration(now - prev.since)} down`,
          data: { name: c.name, target: c.target, latencyMs: c.latencyMs ?? null, downForSec: Math.round((now - prev.since) / 1000) },
        });
      }
    }
    return events;
  }
}
