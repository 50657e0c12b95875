/** The `backups` section of the status sample: what the hub and the local page show. */
import type { StatusBackups } from '@sentinela/shared';
import type { BackupState } from './state.js';
import { snapshotTime } from './state.js';

export interface StatusInputs {
  state: BackupState;
  sources: Array<{ name: string; kind: string }>;
  running: string | null;
  attachedDiskIds: string[];
  copying: boolean;
  /** backup.usb.rotationDays, or null when the site has no USB disks configured. */
  usbRotationDays: number | null;
  peer: { path: string; reachable: boolean; error: string | null } | null;
}

export function backupsStatus(i: StatusInputs): StatusBackups {
  const { state } = i;
  const disks = state.disks();
  const labelOf = new Map(disks.map((d) => [d.id, d.label]));
  const attached = new Set(i.attachedDiskIds);
  return {
    sources: i.sources.map(({ name, kind }) => {
      const good = state.lastRun(name, true);
      const bad = state.lastRun(name, false);
      const usb = state.newestHeld(name, 'usb:%');
      const peer = state.newestHeld(name, 'peer');
      const hub = state.newestHeld(name, 'hub'); // recorded by offsite/sender.ts when the hub says complete
      return {
        name,
        kind,
        running: i.running === name,
        lastLocal: good?.snapshotId
          ? { at: good.finishedAt, snapshotId: good.snapshotId, contentBytes: good.contentBytes ?? 0, storedBytes: good.storedBytes ?? 0, durationMs: good.durationMs }
          : null,
        lastUsb: usb
          ? { at: snapshotTime(usb.snapshotId), snapshotId: usb.snapshotId, diskId: usb.location.slice(4), label: labelOf.get(usb.location.slice(4)) ?? usb.location.slice(4) }
          : null,
        lastPeer: peer ? { at: snapshotTime(peer.snapshotId), snapshotId: peer.snapshotId } : null,
        lastOffsite: hub ? { at: hub.copiedAt, snapshotId: hub.snapshotId } : null,
        lastFailure: bad && (!good || bad.finishedAt > good.finishedAt) ? { at: bad.finishedAt, error: bad.error ?? 'unknown error' } : null,
      };
    }),
    disks: disks.map((d) => ({
      id: d.id,
      label: d.label,
      lastAttachedAt: d.lastAttachedAt,
      lastCopyAt: d.lastCopyAt,
      snapshots: state.held(`usb:${d.id}`).length,
      attached: attached.has(d.id),
    })),
    usbAttached: disks.some((d) => attached.has(d.id)),
    usbCopying: i.copying,
    usbRotationDays: i.usbRotationDays,
    usbLastAttachedAt: disks.map((d) => d.lastAttachedAt).filter((x): x is string => !!x).sort().pop() ?? null,
    peer: i.peer ? { path: i.peer.path, reachable: i.peer.reachable, lastMirrorAt: state.getMeta('peerLastMirrorAt'), lastError: i.peer.error } : null,
  };
}
