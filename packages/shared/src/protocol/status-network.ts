/** The `network` section of a status message (optional: absent when the agent has nothing to say about it). */
import { z } from 'zod';

const iso = z.string().min(1);

export const ProbeResult = z.looseObject({
  /** What was probed (host:port, names). */
  target: z.string(),
  /** null: not probed yet. */
  up: z.boolean().nullable(),
  /** Mean of the attempts that succeeded. */
  latencyMs: z.number().nonnegative().nullable(),
  lossPct: z.number().min(0).max(100).nullable(),
  error: z.string().optional(),
});
export type ProbeResult = z.infer<typeof ProbeResult>;

export const WanOutage = z.looseObject({
  start: iso,
  end: iso.nullable(),
  durationSec: z.number().nonnegative().nullable(),
});
export type WanOutage = z.infer<typeof WanOutage>;

export const InterfaceCounters = z.looseObject({
  iface: z.string(),
  operstate: z.string(),
  rxBytes: z.number().nonnegative(),
  txBytes: z.number().nonnegative(),
  rxErrors: z.number().nonnegative(),
  txErrors: z.number().nonnegative(),
  rxDropped: z.number().nonnegative(),
  txDropped: z.number().nonnegative(),
});

export const StatusNetwork = z.looseObject({
  /** ok; lan-down (the gateway does not answer: a local fault); wan-down (LAN fine, hub unreachable); unknown. */
  verdict: z.enum(['ok', 'lan-down', 'wan-down', 'unknown']),
  lan: ProbeResult.nullable(),
  dns: ProbeResult.nullable(),
  hub: ProbeResult,
  /** MQTT PINGREQ→PINGRESP on the agent's own link, when it is connected. */
  mqttRttMs: z.number().nonnegative().nullable(),
  wan: z.looseObject({
    up: z.boolean().nullable(),
    since: iso.nullable(),
    uptimeTodayPct: z.number().min(0).max(100).nullable(),
    uptimeYesterdayPct: z.number().min(0).max(100).nullable(),
    outage: WanOutage.nullable(),
    lastOutage: WanOutage.nullable(),
  }),
  interfaces: z.array(InterfaceCounters).max(64),
});
export type StatusNetwork = z.infer<typeof StatusNetwork>;
