/**
 * The body of a `drill` message: one restore drill of a site (docs/protocol.md). What the hub
 * needs for the console's drill views, the alerts and the continuity test report: who or what ran
 * it, when and for how long, the environment (host, versions), and per source and location the
 * result, RTO (time to restore and check, and its projection for the source's full size) and RPO.
 */
import { z } from 'zod';

const iso = z.iso.datetime({ offset: true });

export const DrillResult = z.looseObject({
  source: z.string().max(200),
  kind: z.string().max(32),
  /** Where the copy was restored from: spool, usb:<label>, peer, hub. */
  location: z.string().max(200),
  /** The snapshot restored (null: none found at that location). */
  snapshot: z.string().max(200).nullable(),
  ok: z.boolean(),
  /** Why it failed, one plain sentence each (English). */
  problems: z.array(z.string().max(1000)).max(64),
  /** Wall time to restore the copy and check it. */
  rtoSeconds: z.number().nonnegative(),
  /** The same at the source's full size (its content bytes at the newest snapshot, at the rate measured): the RTO to expect of a real restore. */
  projectedRtoSeconds: z.number().nonnegative().nullable(),
  /** Age of the newest data restored, at the drill. */
  rpoSeconds: z.number().nullable(),
  /** Bytes restored. */
  bytes: z.number().int().nonnegative(),
});
export type DrillResult = z.infer<typeof DrillResult>;

export const DrillReport = z.looseObject({
  /** Who or what ran it: `schedule` (the agent's weekly drill) or `cli:<user>`. */
  by: z.string().max(200),
  startedAt: iso,
  finishedAt: iso,
  host: z.string().max(255),
  /** Versions of the agent and of the tools the drill used (e.g. mariadbd, postgres). */
  // Keys checked by a refine, not a key schema: the hub's compiled accept test (schema-check.ts) takes plain string keys only.
  versions: z.record(z.string(), z.string().max(200)).refine((r) => Object.keys(r).length <= 32 && Object.keys(r).every((k) => k.length <= 64), 'at most 32 names of at most 64 characters'),
  results: z.array(DrillResult).max(256),
  ok: z.boolean(),
});
export type DrillReport = z.infer<typeof DrillReport>;
