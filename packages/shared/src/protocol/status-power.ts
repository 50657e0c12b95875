/** The `power` section of a status message (optional: absent when the agent has nothing to say about it). */
import { z } from 'zod';

const iso = z.string().min(1);

export const PowerOutage = z.looseObject({
  start: iso,
  /** Null while the outage lasts. */
  end: iso.nullable(),
  /** Time on battery, without the time the server was off (serverOffSec); null while the outage lasts. */
  durationSec: z.number().nonnegative().nullable(),
  /** Lowest battery charge seen (%), null when the UPS does not report it. */
  lowestCharge: z.number().min(0).max(100).nullable(),
  shutdown: z.boolean(),
  /** Seconds the server was off (shut down, then started again): left out of durationSec. Absent from older agents. */
  serverOffSec: z.number().nonnegative().optional(),
});
export type PowerOutage = z.infer<typeof PowerOutage>;

export const StatusPower = z.looseObject({
  /** off: no power section in the config (no UPS daemon on this host). */
  watch: z.enum(['on', 'off']),
  reason: z.string().optional(),
  role: z.enum(['primary', 'secondary']).optional(),
  /** e.g. `nut ups@127.0.0.1:3493`, `apcupsd 127.0.0.1:3551`. */
  source: z.string().optional(),
  /** How the last poll went: stale and lost contact are never "on battery". */
  contact: z.enum(['ok', 'stale', 'driver-down', 'unreachable', 'unknown-ups', 'error', 'unknown']),
  contactMessage: z.string().optional(),
  /** NUT only: our login to upsd (none: no user configured). failed: the UPS is read, but FSD, outlet commands and the primary's count of this server do not work. Absent from older agents. */
  login: z.enum(['ok', 'failed', 'none']).optional(),
  loginMessage: z.string().optional(),
  /** The policy's view: what the agent believes and is doing. */
  state: z.enum(['mains', 'battery', 'low-battery', 'lost-contact', 'shutting-down', 'shut-down', 'unknown']),
  /** ups.status as tokens (OL, OB, LB, FSD, RB, CHRG, unknown ones kept). */
  flags: z.array(z.string()),
  charge: z.number().nullable(),
  runtimeSec: z.number().nullable(),
  loadPct: z.number().nullable(),
  inputVoltage: z.number().nullable(),
  lastSeenAt: iso.nullable(),
  onBatterySince: iso.nullable(),
  /** When the grace runs out if mains does not return. */
  shutdownDueAt: iso.nullable(),
  /** Changes between mains and battery shorter than the debounce, since the agent started. Absent from older agents. */
  flaps: z.number().int().nonnegative().optional(),
  outage: PowerOutage.nullable(),
  lastOutage: PowerOutage.nullable(),
});
export type StatusPower = z.infer<typeof StatusPower>;
