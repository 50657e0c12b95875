/** agent.yaml `offsite:` section: sending the spool's snapshots to the hub over the MQTT link. */
import { z } from 'zod';
import { byteSize } from './common.js';

const hhmm = /^([01]\d|2[0-3]):[0-5]\d$/;
/** "19:00-06:00": a daily window in local time; it may cross midnight. */
export const TimeWindow = z
  .string()
  .regex(/^\d{2}:\d{2}-\d{2}:\d{2}$/, 'a window such as "19:00-06:00" (local time)')
  .refine((s) => s.split('-').every((t) => hhmm.test(t)), 'hours 00-23 and minutes 00-59');

export const AgentOffsiteConfig = z.strictObject({
  /** false: keep the section but send nothing (the hub still gets status and events). */
  enabled: z.boolean().default(true),
  /** Most bytes per second of backup data on the link (absent: no cap). Status and events are never capped by it. */
  rateBytesPerSecond: byteSize.optional(),
  /** When backup data may be sent (local time). Empty: at any time. */
  windows: z.array(TimeWindow).default([]),
  /** Bytes of object per MQTT message. Smaller pieces let an event overtake sooner on a slow link. */
  pieceBytes: byteSize.refine((n) => n >= 1024 && n <= 192 * 1024, 'between 1KiB and 192KiB').default(64 * 1024),
  /** Pieces sent and not yet acknowledged by the hub at once (2: one on the wire while the hub stores the other). */
  inflightPieces: z.number().int().min(1).max(16).default(2),
  /** A piece not acknowledged within this many seconds is sent again. */
  pieceTimeoutSeconds: z.number().min(1).max(3600).default(60),
  /** Deposit the backup key with the hub, sealed to the hub's escrow key (fire/flood restore). */
  escrowKey: z.boolean().default(true),
});
export type AgentOffsiteConfig = z.infer<typeof AgentOffsiteConfig>;

/** Minutes since midnight → whether `windows` allows sending now (no windows: always). */
export function inWindow(windows: readonly string[], at: Date): boolean {
  if (windows.length === 0) return true;
  const now = at.getHours() * 60 + at.getMinutes();
  return windows.some((w) => {
    const [a, b] = w.split('-').map((t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5))) as [number, number];
    return a <= b ? now >= a && now < b : now >= a || now < b;
  });
}
