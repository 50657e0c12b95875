/**
 * The `backups` section of a status message (optional: absent when the agent has no backup config).
 * What the hub and the local page need to say "last good backup", "plug in the USB disk".
 */
import { z } from 'zod';

const iso = z.iso.datetime({ offset: true });

export const StatusBackupSource = z.looseObject({
  name: z.string(),
  kind: z.string(),
  /** A backup of this source is running now. */
  running: z.boolean(),
  /** The newest complete snapshot in the local spool. */
  lastLocal: z.looseObject({ at: iso, snapshotId: z.string(), contentBytes: z.number(), storedBytes: z.number(), durationMs: z.number() }).nullable(),
  /** The newest snapshot of this source copied (and read back) to a USB disk. */
  lastUsb: z.looseObject({ at: iso, snapshotId: z.string(), diskId: z.string(), label: z.string() }).nullable(),
  /** The newest snapshot mirrored to the secondary server (null when no peer is configured or none yet). */
  lastPeer: z.looseObject({ at: iso, snapshotId: z.string() }).nullable(),
  /** The newest snapshot held off-site by the hub (later issue: null for now). */
  lastOffsite: z.looseObject({ at: iso, snapshotId: z.string() }).nullable(),
  /** The last failed backup, when it is more recent than the last good one. */
  lastFailure: z.looseObject({ at: iso, error: z.string() }).nullable(),
});
export type StatusBackupSource = z.infer<typeof StatusBackupSource>;

export const StatusBackupDisk = z.looseObject({
  id: z.string(),
  label: z.string(),
  lastAttachedAt: iso.nullable(),
  lastCopyAt: iso.nullable(),
  /** Snapshots this disk holds (as last seen). */
  snapshots: z.number().int().nonnegative(),
  attached: z.boolean(),
});
export type StatusBackupDisk = z.infer<typeof StatusBackupDisk>;

export const StatusBackups = z.looseObject({
  sources: z.array(StatusBackupSource),
  disks: z.array(StatusBackupDisk),
  /** A registered disk of this site is mounted now. */
  usbAttached: z.boolean(),
  /** A copy to a USB disk is running now. */
  usbCopying: z.boolean(),
  /** When any registered disk was last attached (null: never). */
  usbLastAttachedAt: iso.nullable(),
  /**
   * The USB rotation configured at the site (backup.usb.rotationDays); null: no USB disks configured,
   * so the hub raises no "no USB disk" alert. Absent from agents older than this field.
   */
  usbRotationDays: z.number().positive().nullable().optional(),
  peer: z.looseObject({ path: z.string(), reachable: z.boolean(), lastMirrorAt: iso.nullable(), lastError: z.string().nullable() }).nullable(),
});
export type StatusBackups = z.infer<typeof StatusBackups>;
